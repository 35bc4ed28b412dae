/**
 * The durable outbox (issue 18, point 2), in real Chromium with a real server. The page is served
 * by the server; its client connects through a TCP proxy that stands in for the network, so the
 * network can go away (every connection cut, new upgrades refused) while the page can still be
 * reloaded. A publish made offline survives a reload, is visible in the new page before it is
 * sent, and lands exactly once when the network is back; the outbox's bounds refuse what does
 * not fit with a `dropped` event.
 */
import { SwitchboardClient } from '@switchboard/client'
import { startProxy, startServer, type TcpProxy, type TestServer, until } from '@switchboard/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './e2e-support.js'
import { openClient, pageServer, scripts, type TestWindow } from './share-support.js'

let browser: Browser | undefined
let context: BrowserContext | undefined
let server: TestServer | undefined
let proxy: TcpProxy | undefined
let watcher: SwitchboardClient | undefined
let pageScripts: { client: string; worker: string }

beforeAll(async () => {
  pageScripts = await scripts()
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
})
afterEach(async () => {
  await context?.close()
  watcher?.close({ flush: false })
  await proxy?.close()
  await server?.sb.close({ timeout: 300 })
  context = server = proxy = watcher = undefined
})

const entries = (page: Page) =>
  page.evaluate(async () => {
    const { outbox } = (globalThis as TestWindow).probe
    await outbox!.ready
    return outbox!.entries().map((e) => ({ frame: e.frame, mine: e.mine }))
  })

/**
 * A server with the `box:*` channels (history, client publishes), a proxy in front of it for the
 * page's WebSocket, a watcher on `channel` from Node on its own connection (every message that
 * lands, in `landed`), and a page of a new browser context loaded from the server.
 */
async function pageWithWatcher(channel: string): Promise<{ page: Page; landed: unknown[] }> {
  server = await startServer({
    onRequest: pageServer(pageScripts),
    channels: { 'box:*': { history: 100, clientPublish: true } },
  })
  proxy = await startProxy(server.port)
  watcher = new SwitchboardClient(server.url)
  const landed: unknown[] = []
  watcher.channel(channel).on('publication', ({ data }) => landed.push(data))
  await until(() => watcher!.channel(channel).state === 'subscribed')
  context = await browser!.newContext()
  const page = await context.newPage()
  await page.goto(`http://127.0.0.1:${server.port}/`)
  return { page, landed }
}

/** The network goes away: connections through the proxy are cut, and new upgrades refused. */
function offline(): void {
  proxy!.blockWebSocket = true
  proxy!.cutAll()
}

describe('the IndexedDB outbox', () => {
  it('keeps a publish made offline across a reload and lands it once when the network is back', async () => {
    const { page, landed } = await pageWithWatcher('box:1')
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    await until(() => page.evaluate(() => (globalThis as TestWindow).probe.client.state === 'connected'))

    offline()
    await until(() => page.evaluate(() => (globalThis as TestWindow).probe.client.state === 'reconnecting'))
    // Made offline: kept, and its promise waits.
    await page.evaluate(() => {
      const { client } = (globalThis as TestWindow).probe
      void client.publish('box:1', { text: 'written offline' }).catch(() => {})
    })
    await until(async () => (await entries(page)).length === 1)
    // Stored before the reload (a fresh read of IndexedDB, as a new page would do).
    await until(() =>
      page.evaluate(
        () =>
          new Promise<boolean>((resolve) => {
            const open = indexedDB.open('switchboard-outbox')
            open.onsuccess = () => {
              const all = open.result.transaction('entries').objectStore('entries').getAll()
              all.onsuccess = () => resolve(all.result.length === 1)
            }
          }),
      ),
    )

    await page.reload()
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    // The new page shows it ("sending…") before it can send it: another page made it.
    expect(await entries(page)).toEqual([
      {
        frame: expect.objectContaining({
          type: 'publish',
          channel: 'box:1',
          data: { text: 'written offline' },
        }),
        mine: false,
      },
    ])
    await new Promise((r) => setTimeout(r, 300))
    expect(landed).toEqual([])

    proxy!.blockWebSocket = false
    await until(() => landed.length === 1, 10_000, 'the publish landed')
    await until(async () => (await entries(page)).length === 0, 5000, 'the outbox emptied')
    // Once: nothing more arrives, even after another reconnect of the page.
    proxy!.cutAll()
    await until(
      () => page.evaluate(() => (globalThis as TestWindow).probe.client.state === 'connected'),
      10_000,
    )
    await new Promise((r) => setTimeout(r, 500))
    expect(landed).toEqual([{ text: 'written offline' }])
  }, 60_000)

  it("sends a closed page's idempotent request from one of the two pages left, once", async () => {
    server = await startServer({ onRequest: pageServer(pageScripts) })
    const handled: unknown[] = []
    server.sb.handle('note', (_conn, data) => {
      handled.push(data)
      return 'noted'
    })
    proxy = await startProxy(server.port)
    proxy!.blockWebSocket = true
    context = await browser!.newContext()
    const open = async () => {
      const page = await context!.newPage()
      await page.goto(`http://127.0.0.1:${server!.port}/`)
      await openClient(page, { url: proxy!.url, share: false, outbox: {} })
      return page
    }
    const maker = await open()
    await maker.evaluate(() => {
      const { client } = (globalThis as TestWindow).probe
      void client.request('note', { text: 'once' }, { idempotent: true }).catch(() => {})
    })
    await until(async () => (await entries(maker)).length === 1)
    await new Promise((r) => setTimeout(r, 200))
    await maker.close()
    const left = [await open(), await open()]
    for (const page of left) expect((await entries(page)).length).toBe(1)
    proxy!.blockWebSocket = false
    await until(() => handled.length === 1, 10_000, 'the request handled')
    for (const page of left) await until(async () => (await entries(page)).length === 0, 5000, 'emptied')
    await new Promise((r) => setTimeout(r, 500))
    expect(handled).toEqual([{ text: 'once' }])
  }, 60_000)

  it('sends entries made in one millisecond in the order they were made, after a reload', async () => {
    const { page, landed } = await pageWithWatcher('box:5')
    proxy!.blockWebSocket = true
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    // Six in one loop: most share a millisecond, and entry ids are random.
    await page.evaluate(() => {
      const { client } = (globalThis as TestWindow).probe
      for (let n = 1; n <= 6; n++) void client.publish('box:5', { n }).catch(() => {})
    })
    await until(async () => (await entries(page)).length === 6)
    await new Promise((r) => setTimeout(r, 200))
    await page.reload()
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    const made = [1, 2, 3, 4, 5, 6].map((n) => ({ n }))
    expect((await entries(page)).map((e) => e.frame.data)).toEqual(made)
    proxy!.blockWebSocket = false
    await until(() => landed.length === 6, 10_000, 'all landed')
    expect(landed).toEqual(made)
  }, 60_000)

  it('keeps a publish made on a connection that is dead but not yet known to be, across a reload', async () => {
    const { page, landed } = await pageWithWatcher('box:3')
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    await until(() => page.evaluate(() => (globalThis as TestWindow).probe.client.state === 'connected'))
    // The network goes dark: nothing closes, so the client is still "connected" (until its heartbeat
    // says otherwise) when the message is written, and it goes into a socket that cannot deliver it.
    proxy!.stall = true
    await page.evaluate(() => {
      const { client } = (globalThis as TestWindow).probe
      void client.publish('box:3', { text: 'into the dark' }).catch(() => {})
    })
    expect(await page.evaluate(() => (globalThis as TestWindow).probe.client.state)).toBe('connected')
    await until(async () => (await entries(page)).length === 1, 5000, 'kept while connected')
    await new Promise((r) => setTimeout(r, 200))
    await page.reload()
    proxy!.cutAll()
    proxy!.stall = false
    await openClient(page, { url: proxy!.url, share: false, outbox: {} })
    await until(() => landed.length === 1, 10_000, 'the publish landed')
    await until(async () => (await entries(page)).length === 0, 5000, 'the outbox emptied')
    await new Promise((r) => setTimeout(r, 500))
    expect(landed).toEqual([{ text: 'into the dark' }])
  }, 60_000)

  it('takes the browser going offline as a dead connection at once, and reconnects when it is back', async () => {
    const { page, landed } = await pageWithWatcher('box:4')
    await openClient(page, { url: server!.url, share: false, outbox: {} })
    await until(() => page.evaluate(() => (globalThis as TestWindow).probe.client.state === 'connected'))
    await context!.setOffline(true)
    // Not after the heartbeat's 30 s: the offline event drops it.
    await until(
      async () =>
        (await page.evaluate(() => (globalThis as TestWindow).probe.states)).includes('reconnecting:offline'),
      3000,
      'dropped on offline',
    )
    await page.evaluate(() => {
      const { client } = (globalThis as TestWindow).probe
      void client.publish('box:4', { text: 'written offline' }).catch(() => {})
    })
    await context!.setOffline(false)
    await until(() => landed.length === 1, 10_000, 'landed when back online')
    await new Promise((r) => setTimeout(r, 300))
    expect(landed).toEqual([{ text: 'written offline' }])
    expect(await page.evaluate(() => (globalThis as TestWindow).probe.client.state)).toBe('connected')
  }, 60_000)

  it('refuses what is over its count or bytes, with a dropped event', async () => {
    server = await startServer({ onRequest: pageServer(pageScripts) })
    context = await browser!.newContext()
    const page = await context.newPage()
    await page.goto(`http://127.0.0.1:${server.port}/`)
    // Never connected: everything it is asked to publish is kept.
    await openClient(page, {
      url: server.url,
      share: false,
      autoConnect: false,
      outbox: { maxEntries: 2, maxBytes: 400, scope: 'bounds' },
    })
    const outcomes = await page.evaluate(async () => {
      const { client } = (globalThis as TestWindow).probe
      const attempt = (data: unknown) =>
        Promise.race([
          client.publish('box:2', data).then(
            () => 'sent',
            (err: { code: string }) => err.code,
          ),
          new Promise((resolve) => setTimeout(() => resolve('kept'), 200)),
        ])
      return [
        await attempt({ n: 1 }),
        await attempt({ big: 'x'.repeat(400) }),
        await attempt({ n: 2 }),
        await attempt({ n: 3 }),
      ]
    })
    expect(outcomes).toEqual(['kept', 'limit_exceeded', 'kept', 'limit_exceeded'])
    expect(await page.evaluate(() => (globalThis as TestWindow).probe.dropped)).toEqual(['bytes', 'count'])
    expect((await entries(page)).map((e) => e.frame)).toEqual([
      expect.objectContaining({ data: { n: 1 } }),
      expect.objectContaining({ data: { n: 2 } }),
    ])
  }, 60_000)
})
