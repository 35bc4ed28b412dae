/**
 * A hidden browser tab keeps its connection (issue 13, point 6), in real Chromium. Chrome runs a
 * background tab's timers only at wake-ups aligned to whole seconds, while socket messages still
 * arrive on time; a client that judged liveness by the time since the last message, measured by
 * a timer that ran late, would call a healthy idle connection dead.
 *
 * The client (the browser entry, bundled from source) runs in a page served by a real server
 * whose heartbeat is 1250 ms, with a 250 ms heartbeat margin. Once it is connected and
 * subscribed, another tab is opened in front of it: the page is really hidden (asserted inside
 * it) and its timers really throttled (a 10 ms `setTimeout` waits for the next 1 s wake-up,
 * measured inside it, and the client's 1250 ms pings leave late). Over 12 s hidden there is no
 * reconnect, and the connection still delivers a publication.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type * as ClientModule from '@switchboard/client'
import { startServer, type TestServer } from '@switchboard/testing'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { launchTabbedChromium, root, type TabbedChromium, THROTTLING_OFF_FLAGS } from './e2e-support.js'

const HEARTBEAT = 1250
const MARGIN = 250
const HIDDEN_FOR = 12_000
const CHANNEL = 'hidden:news'

/** What the page keeps for the test. */
interface Probe {
  /** Every client state change, as `newState:reason`. */
  states: string[]
  publications: unknown[]
  /** `document.visibilityState` at every `visibilitychange`. */
  visibility: string[]
}

type ProbeWindow = typeof globalThis & {
  Switchboard: typeof ClientModule
  client: ClientModule.SwitchboardClient
  channel: ClientModule.Channel<unknown>
  probe: Probe
}

/** The client's browser entry from source, as a script that sets `window.Switchboard`. */
async function clientBundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'packages/client/src/browser.ts')],
    alias: { '@switchboard/protocol': join(root, 'packages/protocol/src/index.ts') },
    bundle: true,
    format: 'iife',
    globalName: 'Switchboard',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** Serves the test page and the client bundle from the Switchboard server itself. */
function pageServer(bundle: string) {
  const html = '<!doctype html><title>hidden tab</title><script src="/client.js"></script>'
  return (req: IncomingMessage, res: ServerResponse): void => {
    const [type, body] =
      req.url === '/'
        ? ['text/html', html]
        : req.url === '/client.js'
          ? ['text/javascript', bundle]
          : [undefined, 'not found']
    res.writeHead(type ? 200 : 404, { 'content-type': type ?? 'text/plain' }).end(body)
  }
}

/** Inside the page: how late each of `count` chained `setTimeout(…, 10)` callbacks fired, in ms. */
const timerLateness = (page: Page, count: number) =>
  page.evaluate(async (n) => {
    const late: number[] = []
    for (let i = 0; i < n; i++) {
      const start = performance.now()
      await new Promise((resolve) => setTimeout(resolve, 10))
      late.push(Math.round(performance.now() - start - 10))
    }
    return late
  }, count)

const visibility = (page: Page) => page.evaluate(() => document.visibilityState)
const probe = (page: Page) => page.evaluate(() => (globalThis as ProbeWindow).probe)

let chromium: TabbedChromium | undefined
let server: TestServer | undefined
afterEach(async () => {
  await chromium?.close()
  await server?.sb.close({ timeout: 300 })
  chromium = server = undefined
})

describe('a hidden tab in Chromium', () => {
  it('keeps its connection through 12 s of throttled timers, and still gets publications', async () => {
    server = await startServer({ heartbeat: HEARTBEAT, onRequest: pageServer(await clientBundle()) })
    const connections: string[] = []
    const disconnects: number[] = []
    server.sb.on('connection', (conn) => connections.push(conn.id))
    server.sb.on('disconnect', (_conn, { code }) => disconnects.push(code))

    chromium = await launchTabbedChromium()
    for (const flag of THROTTLING_OFF_FLAGS) expect(chromium.args).not.toContain(flag)
    const page = chromium.context.pages()[0]!
    const pageErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    // When each ping frame left the page, by the browser's clock (CDP network events), in ms.
    const pings: number[] = []
    const cdp = await chromium.context.newCDPSession(page)
    cdp.on('Network.webSocketFrameSent', ({ timestamp, response }) => {
      if (response.payloadData.includes('"type":"ping"')) pings.push(timestamp * 1000)
    })
    await cdp.send('Network.enable')
    await page.goto(`http://127.0.0.1:${server.port}/`)
    await page.evaluate(
      ({ url, margin, channel }) => {
        const w = globalThis as ProbeWindow
        w.probe = { states: [], publications: [], visibility: [] }
        w.client = new w.Switchboard.SwitchboardClient(url, { heartbeatMargin: margin })
        w.client.on('state', ({ newState, reason }) => w.probe.states.push(`${newState}:${reason}`))
        w.channel = w.client.channel(channel)
        w.channel.on('publication', ({ data }) => w.probe.publications.push(data))
        document.addEventListener('visibilitychange', () => w.probe.visibility.push(document.visibilityState))
      },
      { url: server.url, margin: MARGIN, channel: CHANNEL },
    )
    await expect
      .poll(() => page.evaluate(() => (globalThis as ProbeWindow).channel.state), { timeout: 10_000 })
      .toBe('subscribed')
    expect(await visibility(page)).toBe('visible')
    // In front, a 10 ms timer is about on time.
    expect(Math.min(...(await timerLateness(page, 3)))).toBeLessThan(100)

    // Another tab in front of it: the page is hidden, and Chrome throttles it.
    const front = await chromium.context.newPage()
    await front.bringToFront()
    const hiddenAt = Date.now()
    expect(await visibility(page)).toBe('hidden')
    const pingsBefore = pings.length
    expect(await visibility(front)).toBe('visible')
    // Each 10 ms timer after the first waits for the next wake-up, a second after the last one.
    const lateness = await timerLateness(page, 4)
    for (const late of lateness.slice(1)) expect(late).toBeGreaterThan(900)

    // Idle, hidden; still throttled at the end (the last two seconds are spent measuring it).
    await new Promise((resolve) => setTimeout(resolve, HIDDEN_FOR - 2000 - (Date.now() - hiddenAt)))
    expect((await timerLateness(page, 2))[1]).toBeGreaterThan(900)
    expect(await visibility(page)).toBe('hidden')
    const seen = await probe(page)
    expect(seen.visibility).toEqual(['hidden'])
    // No reconnect: the one connection stayed up.
    expect(seen.states.filter((s) => s.includes('heartbeat_timeout'))).toEqual([])
    expect(seen.states).toEqual(['connected:connected'])
    expect(connections).toHaveLength(1)
    expect(disconnects).toEqual([])

    // Its pings left at those wake-ups too: set 1250 ms apart, they go 1 s or 2 s apart (the
    // first gap may start from a ping sent just before the page was hidden).
    const hiddenPings = pings.slice(pingsBefore)
    const gaps = hiddenPings.slice(2).map((at, i) => Math.round(at - hiddenPings[i + 1]!))
    const offSecond = (gap: number) => Math.abs(gap - Math.round(gap / 1000) * 1000)
    expect(gaps.length, `ping gaps ${gaps}`).toBeGreaterThanOrEqual(6)
    expect(Math.max(...gaps), `ping gaps ${gaps}`).toBeGreaterThan(1750)
    expect(gaps.filter((gap) => offSecond(gap) < 100).length, `ping gaps ${gaps}`).toBeGreaterThan(
      gaps.length / 2,
    )

    // The same connection delivers a publication to the hidden page.
    await server.sb.publish(CHANNEL, { n: 1 })
    await expect.poll(async () => (await probe(page)).publications, { timeout: 5000 }).toEqual([{ n: 1 }])
    expect(await visibility(page)).toBe('hidden')
    expect((await probe(page)).states).toEqual(['connected:connected'])
    expect(pageErrors).toEqual([])
  }, 40_000)
})
