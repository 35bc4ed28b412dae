import { describe, expect, it } from 'vitest'
import { ChannelRules, parseDuration } from './channel-options.js'
import { dataSize } from './publishable.js'

describe('ChannelRules', () => {
  const rules = new ChannelRules({
    'chat:*': { history: { size: 500, ttl: '10m' }, presence: true, clientPublish: true },
    'chat:admin:*': { history: 10 },
    lobby: { clientPublish: true },
    '*.log': { history: 5 },
  })

  it('resolves exact names first, then the longest matching pattern', () => {
    expect(rules.get('chat:general')).toEqual({
      history: { size: 500, ttlMs: 600_000 },
      presence: { mode: 'members', windowMs: 100, graceMs: 3000, clientUpdate: false },
      clientPublish: true,
    })
    expect(rules.get('chat:admin:ops')).toMatchObject({ history: { size: 10 }, clientPublish: false })
    expect(rules.get('lobby').clientPublish).toBe(true)
    expect(rules.get('app.log').history?.size).toBe(5)
  })

  it('defaults to no history, no presence, no client publish', () => {
    expect(rules.get('other')).toEqual({ history: undefined, presence: undefined, clientPublish: false })
    expect(rules.get('chat').clientPublish).toBe(false)
    expect(rules.get('xchat:y').clientPublish).toBe(false)
  })

  it('treats pattern characters other than * literally', () => {
    const r = new ChannelRules({ 'a.b+*': { presence: true } })
    expect(r.get('a.b+c').presence?.mode).toBe('members')
    expect(r.get('aXb+c').presence).toBeUndefined()
  })

  it('reads presence as true, a mode, or options with windows (0 turns one off)', () => {
    const r = new ChannelRules({
      'm:*': { presence: 'members' },
      'c:*': { presence: 'counts' },
      'o:*': { presence: { mode: 'members', window: '250ms', grace: 0, clientUpdate: true } },
      'oc:*': { presence: { mode: 'counts', window: 0, clientUpdate: true } },
      'off:*': { presence: false },
    })
    expect(r.get('m:1').presence).toEqual({
      mode: 'members',
      windowMs: 100,
      graceMs: 3000,
      clientUpdate: false,
    })
    expect(r.get('c:1').presence).toEqual({
      mode: 'counts',
      windowMs: 1000,
      graceMs: 3000,
      clientUpdate: false,
    })
    expect(r.get('o:1').presence).toEqual({ mode: 'members', windowMs: 250, graceMs: 0, clientUpdate: true })
    // Counts channels have no info to update.
    expect(r.get('oc:1').presence).toEqual({
      mode: 'counts',
      windowMs: 0,
      graceMs: 3000,
      clientUpdate: false,
    })
    expect(r.get('off:1').presence).toBeUndefined()
    expect(() => new ChannelRules({ x: { presence: { window: 'soon' } } })).toThrow(/presence.window/)
    expect(() => new ChannelRules({ x: { presence: 'all' as 'members' } })).toThrow(RangeError)
  })

  it('rejects nonsense options', () => {
    expect(() => new ChannelRules({ x: { history: 0 } })).toThrow(RangeError)
    expect(() => new ChannelRules({ x: { history: { size: 1, ttl: 'soon' } } })).toThrow(RangeError)
  })
})

describe('parseDuration', () => {
  it('reads units', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration(250)).toBe(250)
  })
})

describe('dataSize (what maxDataBytes bounds)', () => {
  it('is the JSON text in UTF-8 bytes, with each bytes value counted as its length', () => {
    expect(dataSize('é')).toBe(4) // "é": two quotes and two UTF-8 bytes
    expect(dataSize({ a: [1, null] })).toBe(14)
    expect(dataSize(new Uint8Array(100))).toBe(100)
    expect(dataSize({ b: new Uint8Array(10), c: new Uint8Array(3).buffer })).toBe('{"b":,"c":}'.length + 13)
  })

  it('refuses a maxDataBytes that is not a positive integer', () => {
    expect(() => new ChannelRules({ a: { maxDataBytes: 0 } })).toThrow(
      /maxDataBytes must be a positive integer/,
    )
    expect(() => new ChannelRules({ a: { maxDataBytes: 1.5 } })).toThrow(/maxDataBytes/)
  })
})
