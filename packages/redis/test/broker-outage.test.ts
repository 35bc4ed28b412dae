// Redis killed under every channel operation of a running server (issue 13, point 11): each one —
// subscribe, resubscribe with `since`, `$history`, `$presence`, publish, unsubscribe — is answered
// `unavailable` (never `internal`), the failures are logged without a line per failure, the
// server stays up, and everything works again once Redis is back.
import type { ReplyFrame, StreamPosition } from '@switchboard/protocol'
import { RedisBroker } from '@switchboard/redis'
import { ChannelRules, createSwitchboard } from '@switchboard/server'
import { connect, type TestClient } from '@switchboard/testing'
import { expect, it } from 'vitest'
import { privateRedisFixture, until } from './redis-helpers.js'

const channels = { 'load:*': { history: 100, presence: true, clientPublish: true } }
const fx = privateRedisFixture()
const { cleanups } = fx

let ids = 0
/** Sends a frame with a fresh id and waits for its reply. */
async function ask(client: TestClient, frame: Record<string, unknown>): Promise<ReplyFrame> {
  const id = `r${++ids}`
  client.send({ ...frame, id })
  return client.next('reply', (r) => r.id === id)
}

const codeOf = (reply: ReplyFrame) => (reply.ok ? 'ok' : reply.error.code)

it('Redis down: every operation is answered unavailable, logged without a flood; all works again after', async () => {
  const rules = new ChannelRules(channels)
  const broker = new RedisBroker({
    url: fx.redis.url,
    history: (ch) => rules.get(ch).history,
    logger: { warn() {} },
  })
  await broker.ready
  const errors: string[] = []
  const infos: string[] = []
  const logger = { info: (m: string) => infos.push(m), warn() {}, error: (m: string) => errors.push(m) }
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger, channels, broker })
  const { url } = await sb.ready
  cleanups.push(() => broker.close())
  cleanups.push(() => sb.close({ timeout: 300 }))

  const c1 = await connect(url)
  const c2 = await connect(url)
  cleanups.push(
    () => c1.dispose(),
    () => c2.dispose(),
  )
  const first = await ask(c1, { type: 'subscribe', channel: 'load:x' })
  expect(first).toMatchObject({ ok: true })
  const published = await ask(c1, { type: 'publish', channel: 'load:x', data: 'one' })
  if (!published.ok) throw new Error(`the first publish failed: ${published.error.code}`)
  const since = published.data as unknown as StreamPosition

  await fx.redis.stop()
  const answers: Record<string, string> = {}
  answers.subscribe = codeOf(await ask(c2, { type: 'subscribe', channel: 'load:x' }))
  answers.resubscribe = codeOf(await ask(c1, { type: 'subscribe', channel: 'load:x', since }))
  answers.history = codeOf(await ask(c1, { type: 'request', event: '$history', data: { channel: 'load:x' } }))
  answers.presence = codeOf(
    await ask(c1, { type: 'request', event: '$presence', data: { channel: 'load:x' } }),
  )
  answers.publish = codeOf(await ask(c1, { type: 'publish', channel: 'load:x', data: 'two', key: 'k2' }))
  answers.unsubscribe = codeOf(await ask(c1, { type: 'unsubscribe', channel: 'load:x' }))
  expect(answers).toEqual({
    subscribe: 'unavailable',
    resubscribe: 'unavailable',
    history: 'unavailable',
    presence: 'unavailable',
    publish: 'unavailable',
    unsubscribe: 'unavailable',
  })
  // Logged, but not one line per failure.
  const failureLines = errors.filter((m) => m.startsWith('broker '))
  expect(failureLines.length).toBeGreaterThanOrEqual(1)
  expect(failureLines.length).toBeLessThan(Object.keys(answers).length)

  await fx.redis.start()
  // The connections stayed open; a retry succeeds once Redis is back.
  let again: ReplyFrame | undefined
  await until(
    async () => {
      again = await ask(c2, { type: 'subscribe', channel: 'load:x' })
      return again.ok || again.error.code !== 'unavailable'
    },
    10_000,
    'a subscribe that succeeds after Redis is back',
  )
  expect(again).toMatchObject({ ok: true })
  // Redis came back empty: c1 resumes and is told so, without an error.
  expect(await ask(c1, { type: 'subscribe', channel: 'load:x', since })).toMatchObject({
    ok: true,
    data: { recovered: false },
  })
  expect(await ask(c1, { type: 'publish', channel: 'load:x', data: 'three', key: 'k3' })).toMatchObject({
    ok: true,
  })
  await c2.next('message', (m) => m.data === 'three')
  const history = await ask(c1, { type: 'request', event: '$history', data: { channel: 'load:x' } })
  expect(history).toMatchObject({ ok: true, data: { messages: [{ data: 'three' }] } })
  const presence = await ask(c1, { type: 'request', event: '$presence', data: { channel: 'load:x' } })
  expect(presence).toMatchObject({ ok: true, data: { users: 2 } })
  expect(infos.some((m) => m.startsWith('broker answers again'))).toBe(true)
})
