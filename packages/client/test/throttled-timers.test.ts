/**
 * A hidden browser tab keeps its connection. Browsers run a hidden tab's timers only at coarse
 * wake-ups (Chrome: once every few seconds) while socket messages still arrive on time, so a
 * client that judged liveness by the time since the last message — measured by a timer that ran
 * late — would call a healthy, idle connection dead. Here the client's timers fire only at
 * 3000 ms-aligned wake-ups, against a real server (in its own process, with real timers) whose
 * heartbeat is 1250 ms, with a 250 ms heartbeat margin: no `heartbeat_timeout` in 12 s.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SwitchboardClient } from '@switchboard/client'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const serverDist = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url))
const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** A server with a 1250 ms heartbeat in a child process (real timers); resolves with its URL. */
function startServerProcess(): Promise<string> {
  if (!existsSync(serverDist)) throw new Error(`${serverDist} is missing: run npm run build`)
  const script = `
    const { createSwitchboard } = await import(${JSON.stringify(serverDist)})
    const sb = createSwitchboard({ port: 0, host: '127.0.0.1', heartbeat: 1250, logger: false })
    console.log((await sb.ready).url)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(String(d).trim()))
    child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)))
  })
}

/** Replaces the timers with ones that fire only at `wake`-aligned instants, as a hidden tab's do. */
function throttleTimers(wake: number): () => void {
  const realSetTimeout = globalThis.setTimeout
  const realClearTimeout = globalThis.clearTimeout
  const realSetInterval = globalThis.setInterval
  const realClearInterval = globalThis.clearInterval
  const aligned = (delay: number) => {
    const due = Date.now() + Math.max(0, delay)
    return Math.ceil(due / wake) * wake - Date.now()
  }
  const intervals = new Map<object, ReturnType<typeof realSetTimeout>>()
  globalThis.setTimeout = ((fn: () => void, delay = 0) =>
    realSetTimeout(fn, aligned(delay))) as typeof setTimeout
  globalThis.setInterval = ((fn: () => void, delay = 0) => {
    const handle = {}
    const tick = () => {
      intervals.set(handle, realSetTimeout(tick, aligned(delay)))
      fn()
    }
    intervals.set(handle, realSetTimeout(tick, aligned(delay)))
    return handle
  }) as unknown as typeof setInterval
  globalThis.clearInterval = ((handle: object) => {
    const timer = intervals.get(handle)
    if (timer !== undefined) realClearTimeout(timer)
    intervals.delete(handle)
  }) as typeof clearInterval
  return () => {
    globalThis.setTimeout = realSetTimeout
    globalThis.setInterval = realSetInterval
    globalThis.clearInterval = realClearInterval
    for (const timer of intervals.values()) realClearTimeout(timer)
  }
}

describe('throttled timers (a hidden tab)', () => {
  it('keep a healthy idle connection: no heartbeat_timeout in 12 s', async () => {
    const url = await startServerProcess()
    const restore = throttleTimers(3000)
    const reasons: string[] = []
    let client: SwitchboardClient | undefined
    try {
      client = new SwitchboardClient(url, { WebSocket: WebSocket as never, heartbeatMargin: 250 })
      client.on('state', ({ newState, reason }) => reasons.push(`${newState}:${reason}`))
      await new Promise((r) => setTimeout(r, 12_000))
    } finally {
      client?.close()
      restore()
    }
    expect(reasons.filter((r) => r.includes('heartbeat_timeout'))).toEqual([])
    // Connected once, stayed so, and closed by the test.
    expect(reasons).toEqual(['connected:connected', 'closed:close'])
  }, 30_000)
})
