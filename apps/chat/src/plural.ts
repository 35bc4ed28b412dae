/** Counted nouns in English: "1 message", "2 messages", "0 messages" (Intl.PluralRules picks the form). */

const rules = new Intl.PluralRules('en')

export function plural(count: number, one: string, other = `${one}s`): string {
  return `${count.toLocaleString('en')} ${rules.select(count) === 'one' ? one : other}`
}
