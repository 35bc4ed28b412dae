/**
 * A real Redis Cluster for tests, on free ports in a temporary directory: `redis-server
 * --cluster-enabled yes` per node, joined by `redis-cli --cluster create` (Debian's redis-server
 * and redis-tools), torn down after. Three primaries by default; with `replicas: 1` each has a
 * replica, so a test can kill a primary and watch its replica take over. It can also move one
 * slot from its primary to another by hand (the CLUSTER SETSLOT / MIGRATE steps of a reshard),
 * count and delete keys on every primary, and run any command on one node.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '@switchboard/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { until } from './redis-helpers.js'

const run = promisify(execFile)

interface ClusterProcess {
  readonly port: number
  child: ChildProcess | undefined
}

/** A line of CLUSTER NODES, as much of it as the tests need. */
export interface ClusterNodeInfo {
  id: string
  port: number
  primary: boolean
  slots: Array<[number, number]>
}

export class RedisCluster {
  private constructor(
    private readonly dir: string,
    readonly nodes: ClusterProcess[],
  ) {}

  /** Starts `primaries × (1 + replicas)` servers and makes them one cluster, all slots covered. */
  static async start(o: { primaries?: number; replicas?: number } = {}): Promise<RedisCluster> {
    const primaries = o.primaries ?? 3
    const replicas = o.replicas ?? 0
    const dir = await mkdtemp(join(tmpdir(), 'sb-cluster-'))
    const nodes: ClusterProcess[] = []
    for (let i = 0; i < primaries * (1 + replicas); i++)
      nodes.push({ port: await freePort(), child: undefined })
    const cluster = new RedisCluster(dir, nodes)
    try {
      for (const node of nodes) await cluster.spawn(node)
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ])
      await cluster.waitHealthy()
    } catch (err) {
      await cluster.stop()
      throw err
    }
    return cluster
  }

  /** `127.0.0.1:port` of every node: what `RedisBroker({ cluster: { nodes } })` is given. */
  get seeds(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`)
  }

  /**
   * Waits until every running node says cluster_state:ok, all agree on the slots' owners, and
   * every replica's link to its primary is up (a replica that never synced cannot take over).
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      async () => {
        const running = this.nodes.filter((n) => n.child && n.child.exitCode === null)
        const views = await Promise.all(
          running.map(async (n) => {
            const info = String(await this.command(n.port, 'CLUSTER', 'INFO').catch(() => ''))
            if (!info.includes('cluster_state:ok')) return undefined
            return JSON.stringify(await this.topology(n.port).catch(() => undefined))
          }),
        )
        if (!views.every((v) => v !== undefined && v === views[0])) return false
        const links = await Promise.all(
          running.map(async (n) => String(await this.command(n.port, 'INFO', 'replication').catch(() => ''))),
        )
        return links.every((info) => !info.includes('role:slave') || info.includes('master_link_status:up'))
      },
      timeoutMs,
      'redis cluster healthy',
    )
  }

  /** The primaries (and replicas) as one node sees them. */
  async topology(port = this.livePort()): Promise<ClusterNodeInfo[]> {
    const text = String(await this.command(port, 'CLUSTER', 'NODES'))
    const nodes: ClusterNodeInfo[] = []
    for (const line of text.trim().split('\n')) {
      const [id, address, flags, , , , , , ...slots] = line.split(' ')
      if (!id || !address || !flags || flags.includes('fail') || flags.includes('noaddr')) continue
      const port = Number(address.split('@')[0]!.split(':')[1])
      const ranges: Array<[number, number]> = []
      for (const s of slots) {
        if (s.startsWith('[')) continue // a slot being migrated or imported
        const [a, b] = s.split('-').map(Number)
        ranges.push([a!, b ?? a!])
      }
      nodes.push({ id, port, primary: flags.includes('master'), slots: ranges })
    }
    return nodes.sort((a, b) => a.port - b.port)
  }

  /** The primary that owns `slot`. */
  async ownerOf(slot: number): Promise<ClusterNodeInfo> {
    const owner = (await this.topology()).find(
      (n) => n.primary && n.slots.some(([a, b]) => slot >= a && slot <= b),
    )
    if (!owner) throw new Error(`no primary owns slot ${slot}`)
    return owner
  }

  /** The slot of a key (CLUSTER KEYSLOT). */
  async slotOf(key: string): Promise<number> {
    return Number(await this.command(this.livePort(), 'CLUSTER', 'KEYSLOT', key))
  }

  /**
   * Moves `slot` to the primary `to` the way a reshard does: the target imports, the source
   * migrates, every key goes across by MIGRATE, then every primary is told the new owner.
   */
  async moveSlot(slot: number, to: ClusterNodeInfo): Promise<void> {
    const from = await this.ownerOf(slot)
    if (from.id === to.id) return
    await this.command(to.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id)
    await this.command(from.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
    for (;;) {
      const keys = (await this.command(
        from.port,
        'CLUSTER',
        'GETKEYSINSLOT',
        String(slot),
        '100',
      )) as string[]
      if (keys.length === 0) break
      await this.command(from.port, 'MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys)
    }
    await this.command(to.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
    await this.command(from.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
    for (const node of await this.topology()) {
      if (node.primary && node.id !== from.id && node.id !== to.id) {
        await this.command(node.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
      }
    }
  }

  /** Kills the node on `port` (SIGKILL: no goodbye to its clients or its replica). */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port)
    const child = node?.child
    if (!node || !child || child.exitCode !== null) return
    node.child = undefined
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Every key under `prefix` on every primary (SCAN). */
  async keys(prefix: string): Promise<string[]> {
    const all: string[] = []
    await this.onPrimaries(async (redis) => {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        all.push(...keys)
        cursor = next
      } while (cursor !== '0')
    })
    return all
  }

  /** Deletes every key under `prefix` (each primary its own, one key per command: no CROSSSLOT). */
  async deleteKeys(prefix: string): Promise<void> {
    await this.onPrimaries(async (redis) => {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        const batch = redis.pipeline()
        for (const key of keys) batch.unlink(key)
        await batch.exec()
        cursor = next
      } while (cursor !== '0')
    })
  }

  private async onPrimaries(work: (redis: Redis) => Promise<void>): Promise<void> {
    for (const node of await this.topology()) {
      if (!node.primary) continue
      const redis = new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 })
      redis.on('error', () => {})
      try {
        await redis.connect()
        await work(redis)
      } finally {
        redis.disconnect()
      }
    }
  }

  /** Runs one command on one node with redis-cli; the reply as redis-cli prints it (arrays as lists). */
  async command(port: number, ...args: string[]): Promise<string | string[]> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })
    const text = stdout.replace(/\n$/, '')
    if (text.startsWith('ERR') || text.startsWith('MOVED') || text.startsWith('CROSSSLOT')) {
      throw new Error(`redis-cli -p ${port} ${args.join(' ')}: ${text}`)
    }
    return args[0] === 'CLUSTER' && (args[1] === 'GETKEYSINSLOT' || args[1] === 'SLOTS')
      ? text.split('\n').filter(Boolean)
      : text
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.port)))
    await rm(this.dir, { recursive: true, force: true })
  }

  private livePort(): number {
    const node = this.nodes.find((n) => n.child && n.child.exitCode === null)
    if (!node) throw new Error('no cluster node is running')
    return node.port
  }

  private async spawn(node: ClusterProcess): Promise<void> {
    const busPort = await freePort()
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${node.port}.conf`),
        // A primary that stops answering is failed over this soon.
        '--cluster-node-timeout',
        '2000',
        '--appendonly',
        'no',
        '--save',
        '',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    )
    node.child = child
    await until(
      async () => (await this.command(node.port, 'PING').catch(() => '')) === 'PONG',
      10_000,
      `redis-server on ${node.port}`,
    )
  }
}

/** A cluster for a test file: started before its tests, stopped after them. */
export function redisClusterFixture(o: { primaries?: number; replicas?: number } = {}) {
  let cluster: RedisCluster | undefined
  beforeAll(async () => {
    cluster = await RedisCluster.start(o)
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })
  return {
    /** The cluster (once the file's tests have started). */
    get cluster(): RedisCluster {
      return cluster!
    },
  }
}
