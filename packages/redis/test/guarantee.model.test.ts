// The model-based randomized test of the delivery guarantee (issue 13, point 2); the world and the
// commands are in guarantee-model.ts. fast-check draws each client's transport and a sequence of
// commands — subscribe, unsubscribe, remove and subscribe again, publishes from clients and from
// the server, bursts past the send bound (slow-consumer cuts), TCP cuts (also in the middle of a
// replay), drains of the in-process nodes and SIGKILL of the `serve --redis` process — and checks
// every client Channel against what was acknowledged after every command and after a quiet period.
//
//   npx vitest run packages/redis/test/guarantee.model.test.ts                  CI: a few short runs
//   SOAK=1 npx vitest run packages/redis/test/guarantee.model.test.ts           minutes of longer runs
//   MODEL_SEED=… MODEL_PATH=… MODEL_REPLAY=… npx vitest run …/guarantee.model.test.ts   replay a failure
//
// MODEL_RUNS, MODEL_COMMANDS and MODEL_BUDGET_MS override the number of runs, the longest command
// list and the time allowed (shrinking included); MODEL_VERBOSE=1 prints what each run did. A
// failure prints the seed, the path and the shrunk commands, which paste into a fixed regression
// test below. Needs the build (`npx tsc -b`): the process node runs packages/cli/dist/bin.js.
import { SwitchboardClient } from '@switchboard/client'
import { createSwitchboard } from '@switchboard/server'
import { startProxy, until } from '@switchboard/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Cluster,
  type Command,
  commandArbitraries,
  cut,
  disconnects,
  remove,
  runScenario,
  spub,
  ssub,
  stream,
  sub,
  sunsub,
  transportsArbitrary,
  unsub,
  type World,
  wait,
} from './guarantee-model.js'

const SOAK = process.env.SOAK === '1'
const SEED = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : Date.now() % 2 ** 31
const PATH = process.env.MODEL_PATH || undefined
const RUNS = Number(process.env.MODEL_RUNS ?? (SOAK ? 60 : 8))
const MAX_COMMANDS = Number(process.env.MODEL_COMMANDS ?? (SOAK ? 60 : 30))
/** Shrinking re-runs whole worlds: bounded in CI, longer in a soak or when replaying by hand. */
const BUDGET_MS = Number(process.env.MODEL_BUDGET_MS ?? (SOAK || PATH ? 20 * 60_000 : 100_000))

let cluster: Cluster
beforeAll(async () => {
  cluster = await Cluster.start()
}, 60_000)
afterAll(async () => {
  await cluster?.stop()
})

/** fast-check's report, the broken guarantee and the line that replays it. */
function failure(details: fc.RunDetails<unknown>): Error {
  const message = fc.defaultReportMessage(details) ?? 'failed'
  const replay = /replayPath="([^"]*)"/.exec(message)?.[1]
  const error = details.errorInstance
  const cause = error instanceof Error ? error.message : String(error)
  const env = `MODEL_SEED=${details.seed} MODEL_PATH=${details.counterexamplePath}${replay ? ` MODEL_REPLAY=${replay}` : ''}`
  return new Error(
    `${message}\n\n${cause}\n\nreplay: ${env} npx vitest run packages/redis/test/guarantee.model.test.ts`,
  )
}

describe('the delivery guarantee against a model of what was acknowledged', () => {
  it(
    `holds through random subscribes, publishes, cuts, drains and kills (MODEL_SEED=${SEED})`,
    async () => {
      console.log(`guarantee model: MODEL_SEED=${SEED} runs=${RUNS} commands≤${MAX_COMMANDS}`)
      const worlds: World[] = []
      let failures = 0
      const property = fc.asyncProperty(
        transportsArbitrary,
        fc.commands(commandArbitraries, {
          maxCommands: MAX_COMMANDS,
          size: 'max',
          replayPath: process.env.MODEL_REPLAY || undefined,
        }),
        async (transports, commands) => {
          try {
            worlds.push(await runScenario(cluster, transports, commands))
          } catch (err) {
            // The first failure is printed at once: shrinking may take long, or be cut short.
            if (failures++ === 0) console.log(`guarantee model: first failure, shrinking…\n${err}`)
            throw err
          }
        },
      )
      const details = await fc.check(property, {
        seed: SEED,
        path: PATH,
        numRuns: RUNS,
        endOnFailure: PATH !== undefined,
        plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)],
      })
      if (details.failed) throw failure(details)
      // The runs did something: messages were acknowledged and delivered, connections were cut.
      const sum = (f: (w: World) => number) => worlds.reduce((n, w) => n + f(w), 0)
      const acked = sum((w) => w.acked.positionOf.size)
      const cuts = sum((w) => w.peers.reduce((k, p) => k + p.cuts, 0))
      const recoveries = sum((w) => w.recoveries())
      console.log(
        `guarantee model: ${details.numRuns} runs, ${acked} acknowledged messages, ${cuts} cuts, ${recoveries} recoveries; ` +
          `disconnects by code on the in-process nodes: ${JSON.stringify(Object.fromEntries(disconnects))}`,
      )
      expect(details.numRuns).toBeGreaterThan(0)
      expect(acked).toBeGreaterThan(0)
    },
    SOAK ? 30 * 60_000 : 150_000,
  )
})

/** Fixed scenarios: each counterexample the model found, kept as a regression test. */
describe('regressions found by the model', () => {
  /** Runs a fixed scenario against the model; it throws (the test fails) on any broken guarantee. */
  const scenario = (transports: Parameters<typeof runScenario>[1], commands: Command[]) =>
    runScenario(cluster, transports, commands, 3000)
  // FIXED (server subscriptions.ts: a join or leave of the channel drops the URL's position; client
  // channel.ts: an unsubscribe forgets the position it sent). Was: the position a
  // client sent in its connection URL's `resume` parameter is used by the first sb.subscribe of
  // that channel on the connection, however much later, even after the channel was unsubscribed
  // (by sb.unsubscribe or channel.unsubscribe()) and moved on. The server replays from that stale
  // position before its `subscribed` frame; the client drops the replay (the channel is neither
  // wanted nor server-side until the frame arrives), then adopts the frame's position with
  // `recovered: true`: the messages in between are lost silently. Found by SOAK=1 seed 781984099
  // (shrunk: [long-polling, sse, websocket], pubCut(0, 0, 1), term(), sunsub(0, 0), spub(0, 0, 1),
  // ssub(0, 0); timing-dependent), minimised by hand to the deterministic scenarios below.
  for (const transport of ['websocket', 'sse', 'long-polling'] as const) {
    for (const [how, leave] of [
      ['sb.unsubscribe', sunsub(0, 0)],
      ['channel.unsubscribe()', unsub(0, 0)],
    ] as const) {
      it(`sb.subscribe after ${how} does not replay from the connection's stale resume position (${transport})`, () =>
        scenario(
          [transport, 'websocket', 'websocket'],
          [
            cut(0),
            wait(300),
            spub(0, 0, 1),
            wait(100),
            leave,
            wait(100),
            spub(0, 0, 1),
            wait(100),
            ssub(0, 0),
            wait(200),
          ],
        ))
    }
  }

  // FIXED (client switchboard-client.ts: an unsubscribe carries an id, and what arrives for the
  // name before its reply is dropped). Was: removeChannel(name) then channel(name) while
  // the channel is busy: the messages still in flight for the old subscription (sent before the
  // server processed the unsubscribe) are handed to the new Channel, which has no position yet and
  // takes them; its subscribe reply then starts it at the channel's head, and the messages
  // published between the unsubscribe and the subscribe are skipped without a recovery event —
  // a hole in the middle of what the new Channel delivered. Found by seed 782671227 (shrunk:
  // [websocket, long-polling, websocket], sunsub(0, 1), wait(82), ssub(2, 2), pubCut(1, 0, 7),
  // wait(125), remove(0, 0), sub(0, 0), cutInReplay(1, 9, 2), sub(2, 0)).
  it('removeChannel then channel() on a busy channel: nothing of the old subscription, no hole', () =>
    scenario(
      ['websocket', 'websocket', 'websocket'],
      [
        stream(0, 0, 80, 2),
        wait(20),
        remove(0, 0),
        sub(0, 0),
        wait(30),
        remove(0, 0),
        sub(0, 0),
        wait(30),
        remove(0, 0),
        sub(0, 0),
        wait(30),
        remove(0, 0),
        sub(0, 0),
        wait(30),
        remove(0, 0),
        sub(0, 0),
        wait(300),
      ],
    ))

  // FIXED (server long-poll-transport.ts: a client that keeps polling is not cut for what queued
  // between two polls; only one that stopped polling, or a queue past four times the bound).
  // Was: a replay queued while no poll is held waits whole in the
  // send queue, so one larger than maxBufferedBytes cuts the connection as a slow consumer (4100)
  // before any of it is sent; the client resumes from the same position and is cut again, on every
  // node with that bound (docs/guarantees.md promises progress across reconnects: WebSocket makes
  // it by writing at half the bound, long-polling cannot without a held poll). Seen in the model
  // as seed 783239846 (shrunk: [websocket, websocket, long-polling], burst(0, 1, 20, 754),
  // remove(2, 0), ssub(2, 0): 19 entries, 16,419 bytes queued, nothing unsent, on both nodes).
  it('a long-polling client resuming three rooms, one with a replay past the send bound, catches up', async () => {
    const sb = createSwitchboard({
      port: 0,
      host: '127.0.0.1',
      logger: false,
      maxBufferedBytes: 16 * 1024,
      channels: { 'room:*': { history: 1000 } },
    })
    const { port } = await sb.ready
    const proxy = await startProxy(port)
    const cuts: number[] = []
    sb.on('disconnect', (_conn, { code }) => void cuts.push(code))
    const client = new SwitchboardClient(proxy.url, { transports: ['long-polling'], backoff: () => 50 })
    try {
      const rooms = ['room:1', 'room:2', 'room:3'].map((name) => client.channel(name))
      const seen: number[] = []
      rooms[2]!.on('publication', (p) => void seen.push(p.offset))
      await until(() => rooms.every((r) => r.state === 'subscribed'), 5000, 'subscribed')
      proxy.cutAll() // the network drops; the client comes back and resumes each room
      for (let i = 0; i < 20; i++) await sb.publish('room:3', { pad: 'x'.repeat(800) })
      await until(() => seen.length === 20, 5000, `caught up (disconnects ${JSON.stringify(cuts)})`)
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
      expect(cuts.filter((code) => code === 4100)).toEqual([])
    } finally {
      client.close()
      await proxy.close()
      await sb.close({ timeout: 300 })
    }
  })
})
