/**
 * Test helpers for the Redis broker: a unique key prefix per test on the shared Redis (removed
 * afterwards), and a private `redis-server` on a free port for the tests that kill or restart it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { freePort, until as waitUntil } from '@switchboard/testing'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll } from 'vitest'

export const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export function uniquePrefix(): string {
  return `sbtest:${randomBytes(5).toString('hex')}:`
}

/** Deletes every key under `prefix` on the Redis at `url`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** How many keys there are under `prefix` on the Redis at `url` (SCAN). */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    await redis.connect()
    let count = 0
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      count += keys.length
      cursor = next
    } while (cursor !== '0')
    return count
  } finally {
    redis.disconnect()
  }
}

/** The shared `until`, with the longer default a Redis restart needs. */
export const until = (check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what?: string) =>
  waitUntil(check, timeoutMs, what)

/** A private redis-server (no persistence) that a test may stop and start again on the same port. */
export class PrivateRedis {
  private child: ChildProcess | undefined

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort())
    await redis.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts the server, unless it is running. */
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return
    const child = spawn(
      'redis-server',
      // DEBUG SLEEP (a Redis that stalls) is allowed from localhost.
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--enable-debug-command',
        'local',
      ],
      { stdio: 'ignore' },
    )
    this.child = child
    await until(() => this.ping(), 10_000, `redis-server on ${this.port}`)
  }

  /** Kills the server (SIGKILL: no goodbye to its clients) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Runs one command on a fresh connection. */
  async command(...args: string[]): Promise<unknown> {
    const redis = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    redis.on('error', () => {}) // the failure is the command's rejection
    try {
      await redis.connect()
      return await redis.call(args[0]!, ...args.slice(1))
    } finally {
      redis.disconnect()
    }
  }

  private async ping(): Promise<boolean> {
    try {
      return (await this.command('PING')) === 'PONG'
    } catch {
      return false
    }
  }
}

/**
 * A private `redis-server` for a test file: started before its tests, stopped after them; the
 * cleanups a test pushes run after it, newest first. With `restart`, the server is started
 * again after each test (a test may have stopped it); with `flush`, it is emptied too.
 */
export function privateRedisFixture(o: { restart?: boolean; flush?: boolean } = {}) {
  let redis: PrivateRedis | undefined
  const cleanups: Array<() => unknown> = []
  beforeAll(async () => {
    redis = await PrivateRedis.start()
  })
  afterAll(async () => {
    await redis?.stop()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    if (o.restart) await redis!.start()
    if (o.flush) await redis!.command('FLUSHALL')
  })
  return {
    /** The server (once the file's tests have started). */
    get redis(): PrivateRedis {
      return redis!
    },
    cleanups,
  }
}

/** A node process a test started: what it printed so far, its process, and how it ended. */
export interface NodeProcess {
  child: ChildProcess
  output(): string
  exited: Promise<unknown>
}

/**
 * Starts `node script ...args` (a node fixture built from dist), registers its stop (SIGTERM, then
 * waiting for the exit) with `onCleanup`, and waits up to 15 s for `listening` to match what it
 * printed. `secret`, if given, must never appear in what it printed (checked at the stop).
 */
export async function startNodeProcess(
  script: string,
  args: string[],
  onCleanup: (cleanup: () => Promise<void>) => void,
  listening: RegExp,
  secret?: string,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    if (secret !== undefined && out.includes(secret)) throw new Error('a node printed the secret')
  })
  await until(() => listening.test(out) || child.exitCode !== null, 15_000, 'a node to listen')
  if (!listening.test(out)) throw new Error(`node did not start: ${out}`)
  return { child, output: () => out, exited }
}
