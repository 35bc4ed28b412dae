// Bytes across nodes, end to end: two `bytes-node.mjs` server processes on the shared Redis (one
// key prefix), a raw WebSocket client on node A that writes bytes in the JSON codec's form
// `{"$bin": base64}`, and on node B an SDK client and a raw one. What A publishes reaches B as the
// same bytes (a Uint8Array through the SDK, the same `$bin` text on the raw wire), `$history` on
// B gives them back, presence `info` with bytes made on A is seen on B, and `sb.sendTo` from A to
// a connection on B carries bytes. Each path's check is soft, so a failure names every path that
// broke. Needs the build (`npx tsc -b`): the nodes run from dist.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SwitchboardClient } from '@switchboard/client'
import { connect } from '@switchboard/testing'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { deleteKeys, SHARED_REDIS, startNodeProcess, uniquePrefix, until } from './redis-helpers.js'

const script = fileURLToPath(new URL('./fixtures/bytes-node.mjs', import.meta.url))
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url))

const cleanups: Array<() => unknown> = []
beforeAll(() => {
  if (!existsSync(built)) throw new Error(`${built} is missing: build first with npx tsc -b`)
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startNode(prefix: string): Promise<string> {
  const node = await startNodeProcess(script, [SHARED_REDIS, prefix], (c) => cleanups.push(c), /ws:\/\/\S+/)
  return /ws:\/\/\S+/.exec(node.output())![0]
}

/** Every byte value, and its base64: what the raw client writes. */
const ALL = Uint8Array.from({ length: 256 }, (_, i) => i)
const ALL_B64 = Buffer.from(ALL).toString('base64')
const BADGE = [0, 1, 127, 128, 254, 255]

/** The bytes of a value that must be a Uint8Array; anything else is shown as it came. */
const bytesOf = (value: unknown) => (value instanceof Uint8Array ? Array.from(value) : value)

it('bytes published on node A reach node B byte for byte, live, in $history, in presence info and by sendTo', async () => {
  const prefix = uniquePrefix()
  cleanups.push(() => deleteKeys(SHARED_REDIS, prefix))
  const [urlA, urlB] = await Promise.all([startNode(prefix), startNode(prefix)])

  // Node B: an SDK client, subscribed with presence, listening for relayed events.
  const bob = new SwitchboardClient(`${urlB}?name=bob`, { maxAttempts: 0 })
  cleanups.push(() => bob.close())
  const room = bob.channel('bin:room')
  const seen: unknown[] = []
  room.on('publication', (p) => seen.push(p.data))
  const relayed: unknown[] = []
  bob.onEvent('relayed', (data) => relayed.push(data))
  await new Promise((resolve) => room.once('subscribed', resolve))

  // Node A: a raw WebSocket speaking the JSON codec.
  const ada = await connect(`${urlA}?name=ada`)
  cleanups.push(() => ada.dispose())
  ada.send({ type: 'subscribe', id: 's', channel: 'bin:room' })
  expect(await ada.next('reply', (f) => f.id === 's')).toMatchObject({ ok: true })

  // Presence made on A, its info holding bytes, is seen on B as bytes.
  await until(() => room.members.some((m) => m.userId === 'ada'), 5000, 'ada in presence on B')
  const member = room.members.find((m) => m.userId === 'ada')!
  expect.soft(bytesOf((member.info as { badge: unknown }).badge)).toEqual(BADGE)

  const sent = { file: { $bin: ALL_B64 }, parts: [{ $bin: '' }, { $bin: 'AQID' }], name: 'all.bin' }
  ada.send(`{"type":"publish","id":"p","channel":"bin:room","data":${JSON.stringify(sent)}}`)
  expect(await ada.next('reply', (f) => f.id === 'p')).toMatchObject({ ok: true })

  // Live on B, through the SDK: Uint8Arrays.
  await until(() => seen.length === 1, 5000, 'the publication on B')
  const got = seen[0] as { file: unknown; parts: unknown[]; name: string }
  expect.soft(bytesOf(got.file)).toEqual(Array.from(ALL))
  expect.soft(bytesOf(got.parts[0])).toEqual([])
  expect.soft(bytesOf(got.parts[1])).toEqual([1, 2, 3])
  expect.soft(got.name).toBe('all.bin')

  // $history on B: through the SDK as bytes, and on the raw wire as the very `$bin` text A wrote.
  const history = (await bob.request('$history', { channel: 'bin:room', limit: 10 })) as {
    messages: Array<{ data: { file: unknown } }>
  }
  expect(history.messages).toHaveLength(1)
  expect.soft(bytesOf(history.messages[0]!.data.file)).toEqual(Array.from(ALL))
  const rawB = await connect(`${urlB}?name=cy`)
  cleanups.push(() => rawB.dispose())
  rawB.send({ type: 'request', id: 'h', event: '$history', data: { channel: 'bin:room', limit: 10 } })
  const reply = await rawB.next('reply', (f) => f.id === 'h')
  expect.soft(reply).toMatchObject({ ok: true, data: { messages: [{ offset: 1, data: sent }] } })

  // sendTo from node A to bob's connection on node B.
  ada.send({
    type: 'request',
    id: 'r',
    event: 'relay',
    data: { to: bob.connectionId, data: { $bin: 'AAEC/w==' } },
  })
  expect(await ada.next('reply', (f) => f.id === 'r')).toMatchObject({ ok: true, data: true })
  await until(() => relayed.length === 1, 5000, 'the relayed event on B')
  expect.soft(bytesOf(relayed[0])).toEqual([0, 1, 2, 255])
}, 60_000)
