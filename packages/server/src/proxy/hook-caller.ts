/**
 * One hook's HTTP caller: POSTs a JSON body to the application's endpoint and reads a JSON
 * answer, with a deadline and a bound on calls in flight. Whatever goes wrong ends as one of two
 * failures, never as a throw:
 *
 * - `unavailable`: the backend could not answer now — nothing listening, a timeout (waiting for a
 *   slot included), a full wait queue, HTTP 5xx or 429. The client is told `unavailable` (a
 *   connection: close 1013), and may retry.
 * - `malformed`: it answered, but not with something this hook accepts — another status, a body
 *   that is not JSON, too large, or not of the hook's shape. Treated as a denial.
 *
 * Each failure is logged through a `ReportLimiter` (once per kind per window), naming the hook and
 * its URL without the query; the body, forwarded headers and the call's own headers never are.
 */
import { binaryReplacer } from '@switchboard/protocol'
import type { ProxyHook } from './proxy-options.js'
import type { ReportLimiter } from './report-limiter.js'

export type CallResult<T> =
  | { ok: true; value: T }
  | { ok: false; failure: 'unavailable' | 'malformed'; why: string }

/** Checks a parsed body; returns the reason it is refused, or undefined for a good one. */
export type ShapeCheck<T> = (body: unknown) => body is T

const DEFAULTS = { timeout: 3000, maxConcurrency: 64, maxQueue: 1024, maxResponseBytes: 1024 * 1024 }

export class HookCaller {
  private inFlight = 0
  private readonly waiting: Array<() => void> = []
  private readonly timeout: number
  private readonly maxConcurrency: number
  private readonly maxQueue: number
  private readonly maxResponseBytes: number
  private readonly url: URL
  /** The URL as logged: no query, no credentials. */
  readonly where: string

  constructor(
    readonly name: string,
    private readonly hook: ProxyHook,
    private readonly reports: ReportLimiter,
  ) {
    this.url = new URL(hook.url)
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new TypeError(`proxy.${name}: url must be http: or https:`)
    }
    this.where = `${this.url.origin}${this.url.pathname}`
    this.timeout = positive(hook.timeout ?? DEFAULTS.timeout, `proxy.${name}.timeout`)
    this.maxConcurrency = positive(
      hook.maxConcurrency ?? DEFAULTS.maxConcurrency,
      `proxy.${name}.maxConcurrency`,
    )
    this.maxQueue = hook.maxQueue ?? DEFAULTS.maxQueue
    this.maxResponseBytes = positive(
      hook.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      `proxy.${name}.maxResponseBytes`,
    )
  }

  /** Calls in flight now (for tests and metrics). */
  get active(): number {
    return this.inFlight
  }

  async call<T>(body: unknown, check: ShapeCheck<T>, describe: () => string): Promise<CallResult<T>> {
    const deadline = Date.now() + this.timeout
    if (this.inFlight >= this.maxConcurrency && this.waiting.length >= this.maxQueue) {
      return this.fail('unavailable', `${this.maxQueue} calls waiting already`)
    }
    if (!(await this.acquire(deadline))) return this.fail('unavailable', `timed out after ${this.timeout} ms`)
    try {
      return await this.send(body, check, describe, deadline)
    } finally {
      this.releaseSlot()
    }
  }

  private async send<T>(
    body: unknown,
    check: ShapeCheck<T>,
    describe: () => string,
    deadline: number,
  ): Promise<CallResult<T>> {
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()))
    let response: Response
    let text: string
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { ...this.hook.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body, binaryReplacer),
        signal,
        redirect: 'error',
      })
      if (response.status >= 500 || response.status === 429) {
        await response.body?.cancel().catch(() => {})
        return this.fail('unavailable', `HTTP ${response.status}`)
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => {})
        return this.fail('malformed', `HTTP ${response.status}`)
      }
      const read = await this.readBody(response)
      if (read === undefined) return this.fail('malformed', `a body over ${this.maxResponseBytes} bytes`)
      text = read
    } catch (err) {
      if (signal.aborted) return this.fail('unavailable', `timed out after ${this.timeout} ms`)
      return this.fail('unavailable', networkReason(err))
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return this.fail('malformed', 'a body that is not JSON')
    }
    if (!check(parsed)) return this.fail('malformed', describe())
    return { ok: true, value: parsed }
  }

  /** The body as text, or undefined past the size bound (then the rest is not read). */
  private async readBody(response: Response): Promise<string | undefined> {
    if (!response.body) return ''
    const reader = response.body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > this.maxResponseBytes) {
        await reader.cancel().catch(() => {})
        return undefined
      }
      chunks.push(value)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  /** A slot, waiting for one until `deadline`; false when none came in time. */
  private acquire(deadline: number): Promise<boolean> | boolean {
    if (this.inFlight < this.maxConcurrency) {
      this.inFlight++
      return true
    }
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        // The slot is handed over: `inFlight` stays as it is.
        resolve(true)
      }
      const timer = setTimeout(
        () => {
          const at = this.waiting.indexOf(wake)
          if (at >= 0) this.waiting.splice(at, 1)
          resolve(false)
        },
        Math.max(0, deadline - Date.now()),
      )
      this.waiting.push(wake)
    })
  }

  private releaseSlot(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.inFlight--
  }

  /** A well-formed answer this hook still cannot use (say, an invalid channel name): a denial, logged. */
  malformed(why: string): void {
    this.fail('malformed', why)
  }

  private fail<T>(failure: 'unavailable' | 'malformed', why: string): CallResult<T> {
    const what = failure === 'unavailable' ? 'unavailable' : 'answered with a malformed response'
    this.reports.report(`${this.name} ${failure}`, `proxy ${this.name} hook ${this.where} ${what}: ${why}`)
    return { ok: false, failure, why }
  }
}

function positive(value: number, what: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${what} must be a positive number`)
  return value
}

/** fetch's network error, by its cause's code only (a message could quote more than we want). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  return code ? `could not reach it (${code})` : 'could not reach it'
}
