/** The `resume` URL parameter: what a client writes, a server reads back; anything else is refused with a reason. */
import { describe, expect, it } from 'vitest'
import { encodeResume, MAX_RESUME_LENGTH, parseResume } from '../src/resume.js'

describe('resume parameter', () => {
  it('reads back what was written', () => {
    const positions = new Map([
      ['user:42', { epoch: 'k3F9xq', offset: 17 }],
      ['room:1', { epoch: 'e', offset: 0 }],
    ])
    expect(parseResume(encodeResume(positions))).toEqual(positions)
  })

  it.each([
    ['not JSON', 'nope'],
    ['an array', '[["user:1","e",1]]'],
    ['null', 'null'],
    ['a negative offset', '{"user:1":["e",-1]}'],
    ['a fractional offset', '{"user:1":["e",1.5]}'],
    ['an empty epoch', '{"user:1":["",1]}'],
    ['an epoch too long', `{"user:1":["${'e'.repeat(65)}",1]}`],
    ['a position that is no pair', '{"user:1":{"epoch":"e","offset":1}}'],
    ['an invalid channel name', '{"bad channel":["e",1]}'],
    ['a value too long', `{"user:1":["e",1],"x":"${'x'.repeat(MAX_RESUME_LENGTH)}"}`],
  ])('refuses %s with a TypeError', (_, value) => {
    expect(() => parseResume(value)).toThrow(TypeError)
  })

  it('does not let a channel named __proto__ reach the prototype', () => {
    const parsed = parseResume('{"__proto__":["e",1]}')
    expect(Object.getPrototypeOf(parsed)).toBe(Map.prototype)
    expect(({} as Record<string, unknown>).e).toBeUndefined()
  })
})
