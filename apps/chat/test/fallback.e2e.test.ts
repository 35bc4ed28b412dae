/**
 * The chat app in real Chromium (playwright-core, /usr/bin/chromium) where WebSocket cannot be
 * used, against a real `switchboard serve` process. Alice's page has no `window.WebSocket` at all
 * (removed by an init script): her client must fall back to SSE. Carol's page has no WebSocket
 * either and her `/ws/sse` requests are aborted, as a proxy that buffers event streams would
 * break them: she must end up on long-polling. Bob keeps a WebSocket. The three chat in one room,
 * every message reaching everyone once, and the network log shows which transport each used.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { badge, chatBench, members, send } from './e2e-support.js'

const bench = chatBench()

const pageErrors: string[] = []

interface Opened {
  page: Page
  /** `METHOD path` of every request the page made to the Switchboard endpoints. */
  requests: string[]
}

async function openChat(
  name: string,
  setup: { noWebSocket?: boolean; blockSse?: boolean } = {},
): Promise<Opened> {
  const context = await bench.browser.newContext()
  if (setup.noWebSocket) {
    await context.addInitScript(() => {
      // A browser (or a proxy-crippled one) without WebSocket at all.
      delete (window as { WebSocket?: unknown }).WebSocket
    })
  }
  if (setup.blockSse) await context.route('**/ws/sse**', (route) => route.abort())
  const page = await context.newPage()
  const requests: string[] = []
  page.on('request', (req) => {
    const path = new URL(req.url()).pathname
    if (path.startsWith('/ws')) requests.push(`${req.method()} ${path.replace(/[A-Za-z0-9_-]{24}$/, '<id>')}`)
  })
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(`http://127.0.0.1:${bench.server.port}/#fallback`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return { page, requests }
}

const texts = (page: Page) =>
  page.$$eval('[data-testid=message]', (els) =>
    els.map((el) => el.querySelector('.message-text')?.firstChild?.textContent ?? ''),
  )

describe('chat app without WebSocket, in Chromium', () => {
  it('connects and chats over SSE and long-polling beside a WebSocket user', async () => {
    const alice = await openChat('Alice', { noWebSocket: true })
    const carol = await openChat('Carol', { noWebSocket: true, blockSse: true })
    const bob = await openChat('Bob')
    const all = [alice, carol, bob]
    for (const { page } of all) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob', 'Carol'])
    }

    await send(alice.page, 'Hello from SSE')
    await send(carol.page, 'Hello from long-polling')
    await send(bob.page, 'Hello from WebSocket')
    for (const { page } of all) {
      await expect
        .poll(async () => (await texts(page)).sort())
        .toEqual(['Hello from SSE', 'Hello from WebSocket', 'Hello from long-polling'])
    }
    await new Promise((r) => setTimeout(r, 300))
    for (const { page } of all) expect(await texts(page)).toHaveLength(3)

    // Alice streamed over SSE and POSTed her frames; she never polled.
    expect(alice.requests).toContain('GET /ws/sse')
    expect(alice.requests).toContain('POST /ws/sse/<id>')
    expect(alice.requests.some((r) => r.includes('/ws/poll'))).toBe(false)
    // Carol's SSE attempt was cut, so she polls.
    expect(carol.requests).toContain('GET /ws/sse')
    expect(carol.requests).toContain('POST /ws/poll')
    expect(carol.requests).toContain('GET /ws/poll/<id>')
    expect(carol.requests).toContain('POST /ws/poll/<id>')
    // Bob's page made no HTTP transport request: his WebSocket opened.
    expect(bob.requests.filter((r) => r !== 'GET /ws')).toEqual([])
    expect(pageErrors).toEqual([])
  }, 60_000)
})
