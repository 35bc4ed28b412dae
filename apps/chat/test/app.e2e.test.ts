/**
 * What a person hits in the chat app (issue 18), in real Chromium against a real `switchboard
 * serve`: a message written offline survives a reload and lands once (the IndexedDB outbox); a
 * reload keeps the name and the room; the member list goes grey while the page is offline; one
 * name in two browsers is two members, each marked unverified; the composer shows the length
 * limit; links are clickable; counts are in the right plural; and a late joiner reads the whole
 * retained history by scrolling up ("load older", `$history` with `before`), in the channel's
 * order whatever the senders' clocks say. The network is taken
 * away from a page by routing its WebSocket (closed with 1012, new ones refused) and aborting its
 * SSE and long-poll requests, while the page itself still loads.
 */
import { SwitchboardClient } from '@switchboard/client'
import { startProxy } from '@switchboard/testing'
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { badge, chatBench, members, send } from './e2e-support.js'

const bench = chatBench()
const pageErrors: string[] = []

interface Person {
  context: BrowserContext
  page: Page
  /** Cuts the page's connection and refuses new ones, or lets them through again. */
  network(on: boolean): void
}

async function person(name: string, path: string): Promise<Person> {
  const context = await bench.browser.newContext({ viewport: { width: 1280, height: 800 } })
  let online = true
  const sockets = new Set<WebSocketRoute>()
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (!online) return void ws.close({ code: 1012, reason: 'offline' })
    sockets.add(ws)
    ws.connectToServer()
  })
  await context.route(/\/ws\/(sse|poll)/, (route) => (online ? route.continue() : route.abort()))
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(`http://127.0.0.1:${bench.server.port}${path}`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return {
    context,
    page,
    network(on) {
      online = on
      if (!on) for (const ws of sockets) void ws.close({ code: 1012, reason: 'offline' })
      if (!on) sockets.clear()
    },
  }
}

const texts = (page: Page) => page.locator('[data-testid=message] .message-content').allTextContents()
/** The texts in a channel's history, read by a fresh client of its own. */
async function historyTexts(channel: `chat:${string}`): Promise<string[]> {
  const reader = new SwitchboardClient(`ws://127.0.0.1:${bench.server.port}/ws?name=reader`)
  try {
    const reply = (await reader.request('$history', { channel, limit: 100 })) as {
      messages: Array<{ data: { text: string } }>
    }
    return reply.messages.map((m) => m.data.text)
  } finally {
    reader.close()
  }
}

/**
 * Entries in the page's IndexedDB outbox, read afresh as a new page would. The outbox writes an
 * entry a few milliseconds after the call (IndexedDB is asynchronous): a test reloads after that.
 */
const stored = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const open = indexedDB.open('switchboard-outbox')
        // Not made yet: leave it to the outbox (a database made here would have no store).
        open.onupgradeneeded = () => open.transaction?.abort()
        open.onsuccess = () => {
          const db = open.result
          if (!db.objectStoreNames.contains('entries')) return resolve(0)
          const all = db.transaction('entries').objectStore('entries').getAll()
          all.onsuccess = () => {
            resolve(all.result.length)
            db.close()
          }
        }
        open.onerror = () => resolve(0)
      }),
  )
const deliveries = (page: Page) =>
  page.$$eval('[data-testid=message]', (els) => els.map((el) => (el as HTMLElement).dataset.delivery))

describe.sequential('the chat app, what a person hits', () => {
  it('keeps a message written offline across a reload and lands it once; keeps the name and room', async () => {
    const ann = await person('Ann', '/#outbox')
    const ben = await person('Ben', '/#outbox')
    for (const p of [ann, ben]) await expect.poll(() => badge(p.page), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => members(ann.page)).toEqual(['Ann', 'Ben'])

    ann.network(false)
    await expect.poll(() => badge(ann.page)).toBe('reconnecting')
    // Offline, the member list is only the last one known: grey, and said so.
    await expect.poll(() => ann.page.getByTestId('members').getAttribute('data-reachable')).toBe('false')
    expect(await ann.page.getByTestId('members-note').textContent()).toContain('offline')
    expect(await ann.page.locator('.composer textarea').getAttribute('placeholder')).toContain('back online')
    await send(ann.page, 'written offline, then reloaded')
    await expect.poll(() => stored(ann.page)).toBe(1)
    await expect.poll(() => deliveries(ann.page)).toEqual(['pending'])

    await ann.page.reload()
    // Straight back in: same name, same room, no name screen — and the message still waiting.
    await expect.poll(() => ann.page.locator('.me-name').textContent()).toBe('Ann')
    expect(await ann.page.locator('.room-title h1').textContent()).toBe('#outbox')
    await expect.poll(() => texts(ann.page)).toEqual(['written offline, then reloaded'])
    expect(await deliveries(ann.page)).toEqual(['pending'])
    await new Promise((r) => setTimeout(r, 500))
    expect(await texts(ben.page)).toEqual([])

    ann.network(true)
    await expect.poll(() => badge(ann.page), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => deliveries(ann.page), { timeout: 15_000 }).toEqual(['sent'])
    await expect.poll(() => texts(ben.page)).toEqual(['written offline, then reloaded'])
    await expect.poll(() => ann.page.getByTestId('members').getAttribute('data-reachable')).toBe('true')
    // Once: a fresh reader's history has it once.
    expect(await historyTexts('chat:outbox')).toEqual(['written offline, then reloaded'])
    await ann.context.close()
    await ben.context.close()
  }, 60_000)

  it('opens after a reload with no network at all (its service worker), and sends what was typed once', async () => {
    const cy = await person('Cy', '/#no-network')
    await expect.poll(() => badge(cy.page), { timeout: 15_000 }).toBe('connected')
    // The service worker took the page (after its first load it has kept the app's files).
    await expect
      .poll(() => cy.page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 10_000 })
      .toBe(true)
    await cy.context.setOffline(true)
    await expect.poll(() => badge(cy.page)).toBe('reconnecting')
    await send(cy.page, 'typed with no network')
    await expect.poll(() => stored(cy.page)).toBe(1)
    await cy.page.reload()
    // No network for the page itself either: the app comes from the service worker's copy.
    await expect.poll(() => cy.page.locator('.me-name').textContent()).toBe('Cy')
    expect(await cy.page.locator('.room-title h1').textContent()).toBe('#no-network')
    await expect.poll(() => texts(cy.page)).toEqual(['typed with no network'])
    expect(await deliveries(cy.page)).toEqual(['pending'])
    await cy.context.setOffline(false)
    await expect.poll(() => deliveries(cy.page), { timeout: 15_000 }).toEqual(['sent'])
    // Once: a fresh reader's history has it once.
    expect(await historyTexts('chat:no-network')).toEqual(['typed with no network'])
    await cy.context.close()
  }, 60_000)

  it('reloads from its service worker when the network went dark (nothing answers), and sends once', async () => {
    // Page, files and WebSocket all through a proxy that can stall: bytes dropped, nothing closed.
    const proxy = await startProxy(bench.server.port)
    const origin = `http://127.0.0.1:${new URL(proxy.url).port}`
    const context = await bench.browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${origin}/#dark`)
      await page.locator('#name').fill('Dee')
      await page.getByRole('button', { name: 'Start chatting' }).click()
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect
        .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 10_000 })
        .toBe(true)
      proxy.stall = true
      await send(page, 'typed into the dark')
      await expect.poll(() => stored(page)).toBe(1)
      // The kept copy answers after the network's grace: the reload ends instead of hanging.
      await page.reload({ timeout: 20_000 })
      await expect.poll(() => page.locator('.me-name').textContent()).toBe('Dee')
      await expect.poll(() => texts(page)).toEqual(['typed into the dark'])
      expect(await deliveries(page)).toEqual(['pending'])
      proxy.stall = false
      proxy.cutAll()
      await expect.poll(() => deliveries(page), { timeout: 20_000 }).toEqual(['sent'])
      // Once: a fresh reader's history has it once.
      expect(await historyTexts('chat:dark')).toEqual(['typed into the dark'])
    } finally {
      await context.close()
      await proxy.close()
    }
  }, 90_000)

  it('makes one name in two browsers two members, each unverified; limit, links and plurals', async () => {
    const first = await person('Ada', '/#twins')
    const second = await person('Ada', '/#twins')
    for (const p of [first, second])
      await expect.poll(() => badge(p.page), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => members(first.page)).toEqual(['Ada', 'Ada'])
    expect(await first.page.locator('[data-testid=members] .unverified').count()).toBe(2)
    // "you" marks this browser's Ada only.
    expect(await first.page.locator('[data-testid=members] .you').count()).toBe(1)
    expect(await first.page.getByTestId('room-sub').textContent()).toBe('2 members · 0 messages')

    await send(first.page, 'see https://example.com/docs?x=1. thanks')
    await expect.poll(() => second.page.getByTestId('room-sub').textContent()).toBe('2 members · 1 message')
    const link = second.page.locator('[data-testid=message] a')
    expect(await link.getAttribute('href')).toBe('https://example.com/docs?x=1')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    expect(await link.textContent()).toBe('https://example.com/docs?x=1')
    // The other Ada's message is not shown as this browser's own.
    expect(await second.page.locator('.message-mine').count()).toBe(0)
    expect(await first.page.locator('.message-mine').count()).toBe(1)

    const box = first.page.locator('.composer textarea')
    await box.fill('x'.repeat(3300))
    expect(await first.page.getByTestId('limit').textContent()).toBe('3,300 / 4,000')
    await box.fill('x'.repeat(4100))
    expect(await first.page.getByTestId('limit').textContent()).toBe('100 over the 4,000-character limit')
    expect(await first.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true)
    await box.press('Enter')
    await new Promise((r) => setTimeout(r, 300))
    expect((await texts(second.page)).length).toBe(1)
    await box.fill('short again')
    expect(await first.page.getByTestId('limit').count()).toBe(0)
    await first.context.close()
    await second.context.close()
  }, 60_000)

  it('lets a late joiner read the whole retained history by scrolling up', async () => {
    // Queued before the handshake, then paced by the server's announced rate: all of them go.
    const writer = new SwitchboardClient(`ws://127.0.0.1:${bench.server.port}/ws?name=Writer`, {
      maxQueue: 1000,
    })
    const total = 450
    try {
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          writer.publish('chat:long', {
            id: `m${i}`,
            user: 'Writer',
            text: `message ${i + 1}`,
            // The writer's clock runs backwards: the app shows the channel's order, not the clocks'.
            ts: 1_700_000_000_000 - i,
          }),
        ),
      )
    } finally {
      await writer.close()
    }
    const late = await person('Late', '/#long')
    await expect.poll(() => badge(late.page), { timeout: 15_000 }).toBe('connected')
    // The first page: the latest 200.
    await expect.poll(async () => (await texts(late.page)).length).toBe(200)
    expect((await texts(late.page))[0]).toBe('message 251')
    // Scrolling to the top reads the page before, twice, until the start of what is kept.
    for (const expected of [400, 450]) {
      await late.page.getByTestId('messages').evaluate((el) => {
        el.scrollTop = 0
      })
      await expect.poll(async () => (await texts(late.page)).length, { timeout: 10_000 }).toBe(expected)
    }
    await late.page.getByTestId('messages').evaluate((el) => {
      el.scrollTop = 0
    })
    await expect.poll(() => late.page.getByTestId('history-start').count()).toBe(1)
    expect(await texts(late.page)).toEqual(Array.from({ length: total }, (_, i) => `message ${i + 1}`))
    expect(await late.page.getByTestId('room-sub').textContent()).toBe('1 member · 450 messages')
    await late.context.close()
    expect(pageErrors).toEqual([])
  }, 60_000)
})
