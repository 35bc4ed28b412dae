import { createBackoff } from '@switchboard/client'
import { describe, expect, it } from 'vitest'

describe('createBackoff', () => {
  it('is full jitter: random × min(max, base × 2^attempt)', () => {
    const backoff = createBackoff({ base: 100, max: 1_000, random: () => 0.5 })
    expect([0, 1, 2, 3, 4, 5].map(backoff)).toEqual([50, 100, 200, 400, 500, 500])
  })

  it('spans the whole window from 0 to the cap', () => {
    expect(createBackoff({ base: 100, max: 1_000, random: () => 0 })(3)).toBe(0)
    expect(createBackoff({ base: 100, max: 1_000, random: () => 0.999999 })(3)).toBe(799)
  })

  it('stays at the cap for huge attempt counts', () => {
    expect(createBackoff({ base: 500, max: 30_000, random: () => 0.5 })(5_000)).toBe(15_000)
  })

  it('uses Math.random by default and stays within bounds', () => {
    const backoff = createBackoff({ base: 100, max: 400 })
    for (let i = 0; i < 200; i++) {
      const d = backoff(i % 6)
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThan(400)
    }
  })
})
