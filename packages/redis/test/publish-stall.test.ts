// A Redis that stalls longer than the command timeout (`DEBUG SLEEP`) while a client publishes
// (issue 13, point 12). A publish that was sent and not confirmed may still be carried out when
// Redis wakes, so it must not be answered `unavailable` ("not published"): it is answered
// `timeout`, and a retry with the same idempotency key lands it exactly once.
import { SwitchboardClient } from '@switchboard/client'
import type { ReplyFrame } from '@switchboard/protocol'
import { RedisBroker } from '@switchboard/redis'
import { ChannelRules, createSwitchboard } from '@switchboard/server'
import { connect } from '@switchboard/testing'
import { expect, it } from 'vitest'
import { privateRedisFixture, until } from './redis-helpers.js'

const channels = { 'stall:*': { history: 1000, clientPublish: true } }
const fx = privateRedisFixture()
const { cleanups } = fx

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

it('publishes during a stall: none answered unavailable lands, a retry with the same key lands once', async () => {
  const rules = new ChannelRules(channels)
  const broker = new RedisBroker({
    url: fx.redis.url,
    history: (ch) => rules.get(ch).history,
    commandTimeoutMs: 800,
    logger: { warn() {} },
  })
  await broker.ready
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, channels, broker })
  const { url } = await sb.ready
  cleanups.push(() => broker.close())
  cleanups.push(() => sb.close({ timeout: 300 }))

  const subscriber = new SwitchboardClient(url, { backoff: () => 50 })
  cleanups.push(() => subscriber.close())
  const feed = subscriber.channel('stall:x')
  const got: unknown[] = []
  const recovered: boolean[] = []
  feed.on('publication', ({ data }) => got.push(data))
  feed.on('recovery', ({ recovered: r }) => recovered.push(r))
  await new Promise((resolve) => feed.once('subscribed', resolve))

  const publisher = await connect(url)
  cleanups.push(() => publisher.dispose())
  const publish = (data: string, key: string): Promise<ReplyFrame> => {
    const id = `${key}:${Math.random()}`
    publisher.send({ type: 'publish', id, channel: 'stall:x', data, key })
    return publisher.next('reply', (r) => r.id === id)
  }

  // Redis sleeps 2 s (more than twice the 800 ms command timeout) while a publish goes every 100 ms.
  const sleeping = fx.redis.command('DEBUG', 'SLEEP', '2')
  const replies: Array<Promise<ReplyFrame>> = []
  for (let i = 0; i < 25; i++) {
    replies.push(publish(`m${i}`, `k${i}`))
    await pause(100)
  }
  await sleeping
  const answers = (await Promise.all(replies)).map((r) => (r.ok ? 'ok' : r.error.code))
  // Once a marker published after the stall has arrived, whatever Redis ran before it has too.
  await until(async () => (await publish('end', 'end')).ok, 10_000, 'a publish after the stall')
  await until(() => got.includes('end'), 10_000, 'the marker')
  const landedAnswers = answers.filter((_, i) => got.includes(`m${i}`))
  expect(landedAnswers).not.toContain('unavailable')
  // The stall really caught publishes in flight, and nothing else was answered.
  expect(answers).toContain('timeout')
  for (const code of answers) expect(['ok', 'timeout', 'unavailable']).toContain(code)

  // The app retries every publish that was not confirmed, with its key: each lands exactly once.
  for (let i = 0; i < answers.length; i++) {
    if (answers[i] === 'ok') continue
    await until(async () => (await publish(`m${i}`, `k${i}`)).ok, 10_000, `the retry of m${i}`)
  }
  await until(async () => (await publish('end2', 'end2')).ok, 10_000, 'the last marker')
  await until(() => got.includes('end2'), 10_000, 'the last marker to arrive')
  const messages = got.filter((d) => typeof d === 'string' && /^m\d+$/.test(d))
  expect([...messages].sort()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort())
  expect(new Set(messages).size).toBe(messages.length)
  expect(recovered.every((r) => r)).toBe(true)
})
