// `switchboard serve --redis`: the flag and REDIS_URL, and a server in-process on the Redis broker
// (127.0.0.1:6379) whose messages reach a second node. The multi-process cluster tests are in
// packages/redis/test/cluster.test.ts.
import { serve, serveConfig, UsageError } from '@switchboard/cli'
import { SwitchboardClient } from '@switchboard/client'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'

const quiet = { info() {}, warn() {}, error() {} }

describe('serveConfig --redis', () => {
  it('reads --redis, then REDIS_URL; without either, no Redis', () => {
    expect(serveConfig([], {}).config.redis).toBeUndefined()
    expect(serveConfig([], { REDIS_URL: '' }).config.redis).toBeUndefined()
    expect(serveConfig([], { REDIS_URL: 'redis://r:6379' }).config.redis?.url).toBe('redis://r:6379')
    expect(
      serveConfig(['--redis', 'rediss://x:1/2'], { REDIS_URL: 'redis://r:6379' }).config.redis?.url,
    ).toBe('rediss://x:1/2')
  })

  it('refuses what is not a redis URL', () => {
    expect(() => serveConfig(['--redis', '127.0.0.1:6379'], {})).toThrow(UsageError)
    expect(() => serveConfig(['--redis'], {})).toThrow(/needs a value/)
  })
})

describe('serve with --redis', () => {
  it('two in-process nodes share a channel, and stop closes the broker', async () => {
    const config = serveConfig(
      ['--port', '0', '--host', '127.0.0.1', '--redis', 'redis://127.0.0.1:6379'],
      {},
    )
    const logs: string[] = []
    const log = { ...quiet, info: (m: string) => logs.push(m) }
    const one = await serve(config, log)
    const two = await serve(config, quiet)
    const a = new SwitchboardClient(`${one.address.url}?name=a`, { backoff: () => 50 })
    const b = new SwitchboardClient(`${two.address.url}?name=b`, { backoff: () => 50 })
    const channel = `chat:serve-redis-${Date.now()}`
    try {
      const got: unknown[] = []
      b.channel(channel).on('publication', ({ data }) => got.push(data))
      await new Promise((resolve) => b.channel(channel).once('subscribed', resolve))
      await a.channel(channel).publish({ text: 'across nodes' })
      const start = Date.now()
      while (got.length === 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20))
      expect(got).toEqual([{ text: 'across nodes' }])
      expect(logs.join('\n')).toContain('sharing channels through redis://127.0.0.1:6379')
    } finally {
      a.close()
      b.close()
      await one.stop()
      await two.stop()
      // stop closed each node's broker: it takes nothing more.
      for (const node of [one, two])
        await expect(node.sb.broker.publish(channel, 1)).rejects.toThrow('closed')
      const redis = new Redis('redis://127.0.0.1:6379')
      await redis.del(...['meta', 'hist', 'idem', 'pres'].map((kind) => `switchboard:${kind}:${channel}`))
      redis.disconnect()
    }
  })

  it('fails with a clear message when Redis does not answer', async () => {
    const config = serveConfig(['--port', '0', '--redis', 'redis://127.0.0.1:1'], {})
    await expect(serve(config, quiet)).rejects.toThrow(/could not reach Redis at redis:\/\/127.0.0.1:1/)
  }, 20_000)
})
