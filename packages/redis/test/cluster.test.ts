// Several `switchboard serve --redis` processes on one private redis-server, with real clients:
// messages published on different nodes reach every client once, in the same order; presence is
// shared; a node killed with SIGKILL or drained with SIGTERM loses nothing — its clients move to
// another node (the client has the list of URLs) and recover from the shared history — and the
// dead node's presence members leave within the heartbeat bound (node ttl 6 s + heartbeat 2 s).
// Needs the build (`npx tsc -b`): it runs packages/cli/dist/bin.js.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Channel, type RecoveryInfo, SwitchboardClient } from '@switchboard/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PrivateRedis, until } from './redis-helpers.js'

const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))

interface ServeNode {
  url: string
  child: ChildProcess
  exited: Promise<number | null>
  output: () => string
}

let redis: PrivateRedis
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build first with npx tsc -b`)
  redis = await PrivateRedis.start()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await redis.command('FLUSHALL')
})

async function startNode(): Promise<ServeNode> {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--host', '127.0.0.1', '--redis', redis.url, '--drain-timeout', '3000'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: '' } },
  )
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  await until(() => /ws:\/\/\S+\/ws/.test(out) || child.exitCode !== null, 15_000, 'a node to listen')
  const match = /ws:\/\/\S+\/ws/.exec(out)
  if (!match) throw new Error(`node did not start: ${out}`)
  expect(out).toContain('sharing channels through redis://127.0.0.1')
  return { url: match[0], child, exited, output: () => out }
}

interface Member {
  client: SwitchboardClient
  room: Channel
  /** The data of every message the application saw, in order. */
  seen: string[]
  offsets: number[]
  recoveries: RecoveryInfo[]
}

async function join(name: string, urls: string[]): Promise<Member> {
  const client = new SwitchboardClient(
    urls.map((u) => `${u}?name=${name}`),
    { backoff: () => 100, requestTimeout: 5000 },
  )
  cleanups.push(() => client.close())
  const room = client.channel('chat:lobby')
  const member: Member = { client, room, seen: [], offsets: [], recoveries: [] }
  room.on('publication', (p) => {
    member.seen.push(String((p.data as { text: string }).text))
    member.offsets.push(p.offset)
  })
  room.on('recovery', (r) => member.recoveries.push(r))
  await new Promise((resolve) => room.once('subscribed', resolve))
  return member
}

const say = (m: Member, text: string) => m.room.publish({ text })

/** Every member saw exactly `count` messages, with consecutive offsets, all in the same order. */
function expectSameStream(members: Member[], count: number) {
  const first = members[0]!
  expect(first.seen).toHaveLength(count)
  expect(new Set(first.seen).size).toBe(count)
  for (const m of members) {
    expect(m.seen).toEqual(first.seen)
    const start = m.offsets[0]!
    expect(m.offsets).toEqual(Array.from({ length: count }, (_, i) => start + i))
  }
}

const userIds = (m: Member) => m.room.members.map((x) => x.userId).sort()

describe('switchboard serve --redis: several nodes', () => {
  it('clients on three nodes see every message once, in one order, and share presence', async () => {
    const [n1, n2, n3] = await Promise.all([startNode(), startNode(), startNode()])
    const ada = await join('ada', [n1!.url])
    const bob = await join('bob', [n2!.url])
    const cy = await join('cy', [n3!.url])
    await until(() => userIds(ada).length === 3 && userIds(bob).length === 3, 5000, 'presence on all nodes')
    expect(userIds(ada)).toEqual(['ada', 'bob', 'cy'])
    expect(userIds(cy)).toEqual(['ada', 'bob', 'cy'])

    const sends: Promise<unknown>[] = []
    for (let i = 0; i < 20; i++) sends.push(say(ada, `ada-${i}`), say(bob, `bob-${i}`), say(cy, `cy-${i}`))
    await Promise.all(sends)
    await until(() => [ada, bob, cy].every((m) => m.seen.length >= 60), 10_000, '60 messages everywhere')
    await new Promise((r) => setTimeout(r, 200))
    expectSameStream([ada, bob, cy], 60)
    // Each sender's own messages keep their order.
    for (const who of ['ada', 'bob', 'cy']) {
      expect(ada.seen.filter((t) => t.startsWith(who))).toEqual(
        Array.from({ length: 20 }, (_, i) => `${who}-${i}`),
      )
    }

    bob.client.close()
    await until(() => userIds(ada).length === 2, 5000, 'bob leaves')
    await until(() => userIds(cy).length === 2, 5000, 'bob leaves cy')
    expect(userIds(cy)).toEqual(['ada', 'cy'])
  }, 60_000)

  it('a node killed with SIGKILL: its clients move to another node and recover every message; its members leave', async () => {
    const [n1, n2] = await Promise.all([startNode(), startNode()])
    const ada = await join('ada', [n1!.url, n2!.url])
    const bob = await join('bob', [n2!.url])
    for (let i = 0; i < 5; i++) await say(bob, `before-${i}`)
    await until(() => ada.seen.length === 5 && userIds(bob).length === 2, 5000, 'first messages and presence')
    const leaves: string[] = []
    bob.room.on('presence', (change) => leaves.push(...change.leaves.map((u) => u.userId)))

    n1!.child.kill('SIGKILL')
    for (let i = 0; i < 20; i++) await say(bob, `during-${i}`)
    // The replayed messages are written before the subscribe reply, which waits on presence (two
    // Redis round trips): wait for the recovery event too, not only for the messages.
    await until(() => ada.seen.length === 25 && ada.recoveries.length > 0, 15_000, 'ada to recover on n2')
    expectSameStream([ada, bob], 25)
    expect(ada.recoveries.at(-1)).toMatchObject({ recovered: true })
    expect(ada.client.connectionId).toBeDefined()

    // Ada is one member across the move: her connection on the dead node is reaped within the
    // bound (the counts drop back to two connections), and she never leaves.
    await until(() => bob.room.presenceCounts?.connections === 2, 12_000, 'the dead node’s connection reaped')
    expect(bob.room.presenceCounts).toEqual({ connections: 2, users: 2 })
    expect(userIds(bob)).toEqual(['ada', 'bob'])
    expect(leaves).toEqual([])
    await say(ada, 'back')
    await until(() => bob.seen.at(-1) === 'back', 5000, 'ada’s message after the move')
  }, 60_000)

  it('a node drained with SIGTERM: clients move with nothing lost, and the node exits cleanly', async () => {
    const [n1, n2] = await Promise.all([startNode(), startNode()])
    const ada = await join('ada', [n1!.url, n2!.url])
    const bob = await join('bob', [n2!.url])
    for (let i = 0; i < 5; i++) await say(bob, `before-${i}`)
    await until(() => ada.seen.length === 5, 5000, 'first messages')

    n1!.child.kill('SIGTERM')
    const publishing = (async () => {
      for (let i = 0; i < 20; i++) await say(bob, `during-${i}`)
    })()
    expect(await n1!.exited).toBe(0)
    expect(n1!.output()).toContain('switchboard stopped')
    await publishing
    await until(() => ada.seen.length === 25, 15_000, 'ada to recover on n2')
    expectSameStream([ada, bob], 25)
    expect(ada.recoveries.every((r) => r.recovered)).toBe(true)
    // A drained node says goodbye: its members leave at once, not after the heartbeat bound.
    await until(() => userIds(bob).length === 2, 5000, 'ada present once, on n2')
    expect(bob.room.members.filter((m) => m.userId === 'ada')).toHaveLength(1)
  }, 60_000)
})
