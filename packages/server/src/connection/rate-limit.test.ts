import { describe, expect, it } from 'vitest'
import { TokenBucket } from './rate-limit.js'

describe('TokenBucket', () => {
  it('allows a burst, refuses past it, and ends a flood', () => {
    const now = 0
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, now: () => now })
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual(['ok', 'ok', 'ok'])
    expect(bucket.take()).toBe('refused')
    expect(bucket.take()).toBe('refused')
    expect(bucket.take()).toBe('refused')
    expect(bucket.take()).toBe('exceeded')
  })

  it('recovers as it refills after a small overrun', () => {
    let now = 0
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10, now: () => now })
    bucket.take()
    bucket.take()
    expect(bucket.take()).toBe('refused')
    now += 500
    expect(bucket.take()).toBe('ok')
    expect(bucket.take()).toBe('ok')
  })
})
