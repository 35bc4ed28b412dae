// The `*` glob of `/api/channels` patterns: what matches, and that a hostile pattern is linear.
import { describe, expect, it } from 'vitest'
import { globMatch } from './node-commands.js'

describe('globMatch', () => {
  it('matches as the channel options do: * is any run of characters, the rest literally', () => {
    const yes: Array<[string, string]> = [
      ['chat:*', 'chat:lobby'],
      ['chat:*', 'chat:'],
      ['*', 'anything'],
      ['*:lobby', 'chat:lobby'],
      ['a*b*c', 'aXXbYYc'],
      ['exact', 'exact'],
      ['user.*', 'user.42'],
      ['**', ''],
    ]
    const no: Array<[string, string]> = [
      ['chat:*', 'chatroom'],
      ['exact', 'exactly'],
      ['a*b*c', 'aXXbYY'],
      ['user.*', 'userX42'],
      ['*:lobby', 'chat:lobby2'],
    ]
    for (const [pattern, text] of yes) expect(globMatch(pattern, text), `${pattern} ~ ${text}`).toBe(true)
    for (const [pattern, text] of no) expect(globMatch(pattern, text), `${pattern} !~ ${text}`).toBe(false)
  })

  it('takes linear-ish time on a pattern that would make a RegExp backtrack for ages', () => {
    const pattern = `${'a*'.repeat(120)}b`
    const text = 'a'.repeat(256)
    const started = performance.now()
    expect(globMatch(pattern, text)).toBe(false)
    expect(performance.now() - started).toBeLessThan(200)
  })
})
