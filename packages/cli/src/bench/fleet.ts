/**
 * The worker processes of a `switchboard bench` run, seen from the orchestrator: forks them
 * (dist/bench/worker.js, next to this module), shares the subscribers out among them, and
 * gathers what they report. A worker that dies counts its clients as failed rather than
 * leaving the run waiting.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ConnectStats, FromWorker, SubscriberStats, Target, ToWorker } from './shared.js'

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))

const EMPTY_HISTOGRAM = { count: 0, sum: 0, min: 0, max: 0, buckets: [] }

/** What a worker that died (or never answered) stands for: all its clients failed. */
function lost(clients: number, code: string): SubscriberStats {
  return {
    connected: 0,
    failed: clients,
    connectErrors: { [code]: clients },
    connectLatency: EMPTY_HISTOGRAM,
    delivered: 0,
    outOfOrder: 0,
    disconnected: 0,
    errors: {},
    latency: EMPTY_HISTOGRAM,
    lastReceipt: 0,
  }
}

/** Resolves with the value, or with `fallback` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

class WorkerProcess {
  delivered = 0
  readonly connected: Promise<ConnectStats>
  readonly result: Promise<SubscriberStats>
  readonly #child: ChildProcess
  readonly #died: (why: string) => void

  constructor(
    readonly clients: number,
    target: Target,
    connectTimeoutMs: number,
  ) {
    this.#child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let connected: (stats: ConnectStats) => void = () => {}
    let result: (stats: SubscriberStats) => void = () => {}
    this.connected = new Promise((resolve) => {
      connected = resolve
    })
    this.result = new Promise((resolve) => {
      result = resolve
    })
    this.#child.on('message', (message: FromWorker) => {
      if (message.type === 'connected') connected(message.stats)
      else if (message.type === 'progress') this.delivered = message.delivered
      else if (message.type === 'result') result(message.stats)
    })
    // The first word wins: a worker that died or was given up on stays lost.
    this.#died = (why: string) => {
      const stats = lost(clients, why)
      connected(stats)
      result(stats)
    }
    this.#child.on('error', (err) => this.#died(`worker_error: ${err.message}`))
    // Messages sent just before exiting may be handled after 'exit': give them a moment.
    this.#child.on('exit', (code, signal) => {
      setTimeout(() => this.#died(`worker_exit_${signal ?? code}`), 200)
    })
    this.#send({ type: 'start', target, clients, connectTimeoutMs })
  }

  stop(): void {
    this.#send({ type: 'stop' })
  }

  /** Kills the process; if it had not reported yet, its clients count as failed with `why`. */
  kill(why = 'killed'): void {
    this.#died(why)
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL')
  }

  #send(message: ToWorker): void {
    if (this.#child.connected) this.#child.send(message)
  }
}

export class Fleet {
  readonly #workers: WorkerProcess[]

  /** Forks `workers` processes and has them connect `clients` subscribers between them. */
  constructor(clients: number, workers: number, target: Target, connectTimeoutMs: number) {
    const share = Math.floor(clients / workers)
    this.#workers = Array.from(
      { length: workers },
      (_, i) => new WorkerProcess(share + (i < clients % workers ? 1 : 0), target, connectTimeoutMs),
    )
  }

  /** Each worker's connect stats, once all are connected; a worker not done after `ms` is killed. */
  connected(ms: number): Promise<ConnectStats[]> {
    return Promise.all(
      this.#workers.map(async (w) => {
        const stats = await within<ConnectStats | undefined>(w.connected, ms, undefined)
        if (stats) return stats
        w.kill('timeout')
        return w.connected
      }),
    )
  }

  /** Deliveries so far, as last reported. */
  get delivered(): number {
    return this.#workers.reduce((sum, w) => sum + w.delivered, 0)
  }

  /** Stops the workers and gathers their stats; a worker silent for `ms` is killed and counted lost. */
  async stop(ms: number): Promise<SubscriberStats[]> {
    for (const w of this.#workers) w.stop()
    const results = await Promise.all(
      this.#workers.map(async (w) => {
        const stats = await within<SubscriberStats | undefined>(w.result, ms, undefined)
        if (stats) return stats
        w.kill('worker_timeout')
        return w.result
      }),
    )
    this.kill()
    return results
  }

  kill(): void {
    for (const w of this.#workers) w.kill()
  }
}
