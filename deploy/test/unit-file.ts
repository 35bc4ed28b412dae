/**
 * Just enough of systemd's unit-file and environment-file syntax to test deploy/systemd: sections,
 * repeated keys, comments, line continuations, time spans, and ExecStart's word splitting with
 * `$VAR` (split into words) and `${VAR}` (one word) expansion (systemd.service(5), "Command lines").
 */

export type Unit = Map<string, Map<string, string[]>>

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map()
  let section: Map<string, string[]> | undefined
  const lines = text.replace(/\\\n/g, ' ').split('\n')
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      section = new Map()
      unit.set(header[1]!, section)
      continue
    }
    const eq = line.indexOf('=')
    if (!section || eq === -1) throw new Error(`not a unit-file line: ${line}`)
    const key = line.slice(0, eq).trim()
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()])
  }
  return unit
}

/** The last value of a key (what systemd uses for single-valued settings). */
export function setting(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1)
}

/** A systemd time span in seconds: `30`, `30s`, `1min 30s`, `500ms`. */
export function timeSpan(value: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 }
  let total = 0
  for (const part of value.trim().split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(part)
    const unit = units[m?.[2] || 's']
    if (!m || unit === undefined) throw new Error(`not a time span: ${value}`)
    total += Number(m[1]) * unit
  }
  return total
}

/** `KEY=value` lines of an EnvironmentFile; quotes around a whole value are removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) throw new Error(`not an environment line: ${line}`)
    env[m[1]!] = m[2]!.replace(/^"(.*)"$|^'(.*)'$/, '$1$2')
  }
  return env
}

/** `Environment=A=1 B=2` assignments (one setting may hold several). */
export function parseEnvironment(values: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const value of values) {
    for (const word of splitWords(value)) {
      const eq = word.indexOf('=')
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1)
    }
  }
  return env
}

/** Splits a command line into words, honouring double and single quotes. */
export function splitWords(line: string): string[] {
  const words: string[] = []
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(m[1] ?? m[2] ?? m[3] ?? '')
  }
  return words
}

/** ExecStart's argv after expansion: a word `$VAR` becomes the value's words, `${VAR}` one word. */
export function expandCommand(line: string, env: Record<string, string>): string[] {
  const command = line.replace(/^[-@:+!]+/, '')
  const argv: string[] = []
  for (const word of splitWords(command)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word)
    if (whole) {
      argv.push(...splitWords(env[whole[1]!] ?? ''))
      continue
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ''))
  }
  return argv
}
