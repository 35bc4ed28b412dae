/**
 * One connection shared by every tab (issue 18, point 1), in real Chromium: pages of one browser
 * context are tabs of one profile (they share SharedWorker, BroadcastChannel, Web Locks). The
 * client is the browser entry bundled from source, against a real server that counts its
 * connections. Both ways of sharing are run: a leader tab elected with Web Locks relaying over
 * BroadcastChannel, and a SharedWorker. The browser going offline drops the shared connection for
 * every tab at once, and they resume together when it is back.
 */
import { startServer, type TestServer, until } from '@switchboard/testing'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './e2e-support.js'
import {
  allSubscribed,
  offsetsIn,
  openClient,
  pageServer,
  scripts,
  type TabOptions,
  type TestWindow,
  upTo,
} from './share-support.js'

let browser: Browser | undefined
let context: BrowserContext | undefined
let server: TestServer | undefined
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
  await server?.sb.close({ timeout: 300 })
  context = server = undefined
})

async function setup() {
  server = await startServer({
    onRequest: pageServer(pageScripts),
    channels: { 'share:*': { history: 1000, clientPublish: true } },
  })
  server.sb.handle('whoami', (_conn, data) => data)
  context = await browser!.newContext()
  return server
}

/** A new tab with a client (see openClient). */
async function tab(options: Omit<TabOptions, 'url'>): Promise<Page> {
  const page = await context!.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(`http://127.0.0.1:${server!.port}/`)
  await openClient(page, { url: server!.url, ...options })
  return page
}

const connections = () => server!.sb.connections.size

for (const share of ['leader', 'worker'] as const) {
  describe(`tabs sharing one connection (${share === 'leader' ? 'leader tab' : 'SharedWorker'})`, () => {
    it('three tabs open one WebSocket, and each gets every message once', async () => {
      const sb = (await setup()).sb
      const channels = ['share:a', 'share:b']
      const tabs = [
        await tab({ share, channels }),
        await tab({ share, channels }),
        await tab({ share, channels }),
      ]
      for (const page of tabs) await until(() => allSubscribed(page, channels), 10_000, 'subscribed')
      expect(connections()).toBe(1)
      const [conn] = sb.connections.values()
      expect([...conn!.subscriptions].sort()).toEqual(channels)
      for (let n = 0; n < 10; n++) await sb.publish(channels[n % 2]!, { n })
      for (const page of tabs) {
        await until(async () => (await offsetsIn(page, 'share:b')).length === 5, 5000, 'five on b')
      }
      await new Promise((r) => setTimeout(r, 200))
      for (const page of tabs) {
        expect(await offsetsIn(page, 'share:a')).toEqual(upTo(5))
        expect(await offsetsIn(page, 'share:b')).toEqual(upTo(5))
      }
      // Every tab's client sees the one connection.
      const ids = await Promise.all(
        tabs.map((p) => p.evaluate(() => (globalThis as TestWindow).probe.client.connectionId)),
      )
      expect(new Set(ids)).toEqual(new Set([conn!.id]))
      expect(connections()).toBe(1)
    }, 60_000)

    it('answers a request and a publish in the tab that made them', async () => {
      await setup()
      const tabs = [await tab({ share }), await tab({ share }), await tab({ share })]
      const answers = await Promise.all(
        tabs.map((page, i) =>
          page.evaluate(async (n) => {
            const { client } = (globalThis as TestWindow).probe
            await new Promise<void>((resolve) => {
              if (client.state === 'connected') resolve()
              else client.once('connected', () => resolve())
            })
            const reply = await client.request('whoami', { tab: n })
            const ack = await client.publish('share:p', { from: n })
            return { reply, offset: ack.offset }
          }, i),
        ),
      )
      expect(answers.map((a) => a.reply)).toEqual([{ tab: 0 }, { tab: 1 }, { tab: 2 }])
      expect(answers.map((a) => a.offset).sort()).toEqual([1, 2, 3])
      expect(connections()).toBe(1)
    }, 60_000)
  })
}

describe('a shared connection across tabs', () => {
  it('moves to another tab when the leader tab closes, nothing lost or doubled in any tab', async () => {
    const sb = (await setup()).sb
    const channels = ['share:h']
    // The first tab leads: it took the lock before the others existed.
    const leader = await tab({ share: 'leader', channels })
    await until(() => allSubscribed(leader, channels), 10_000, 'leader subscribed')
    const followers = [await tab({ share: 'leader', channels }), await tab({ share: 'leader', channels })]
    for (const page of followers) await until(() => allSubscribed(page, channels), 10_000, 'subscribed')
    expect(connections()).toBe(1)
    const [first] = sb.connections.values()

    let n = 0
    const publishing = setInterval(() => void sb.publish('share:h', { n: ++n }).catch(() => {}), 10)
    try {
      await until(async () => (await offsetsIn(followers[0]!, 'share:h')).length >= 20, 5000, 'twenty')
      await leader.close()
      await until(
        () => connections() === 1 && [...sb.connections.values()][0] !== first,
        10_000,
        'the connection moved',
      )
      const target = n + 30
      for (const page of followers) {
        await until(async () => (await offsetsIn(page, 'share:h')).length >= target, 10_000, 'thirty more')
      }
    } finally {
      clearInterval(publishing)
    }
    const total = n
    for (const page of followers) {
      await until(async () => (await offsetsIn(page, 'share:h')).length >= total, 5000, 'the last').catch(
        () => {},
      )
      expect(await offsetsIn(page, 'share:h')).toEqual(upTo(total))
      const states = await page.evaluate(() => (globalThis as TestWindow).probe.states)
      // Each follower reconnected once, to the new leader.
      expect(states.filter((s) => s.startsWith('connected')).length).toBe(2)
    }
    expect(connections()).toBe(1)
    // Requests still answered in each tab after the handover.
    for (const [i, page] of followers.entries()) {
      const reply = await page.evaluate(
        (k) => (globalThis as TestWindow).probe.client.request('whoami', k),
        i,
      )
      expect(reply).toBe(i)
    }
  }, 90_000)

  it('keeps the connection in the SharedWorker when the tab that opened it closes', async () => {
    const sb = (await setup()).sb
    const channels = ['share:w']
    const first = await tab({ share: 'worker', channels })
    await until(() => allSubscribed(first, channels), 10_000, 'first subscribed')
    const others = [await tab({ share: 'worker', channels }), await tab({ share: 'worker', channels })]
    for (const page of others) await until(() => allSubscribed(page, channels), 10_000, 'subscribed')
    expect(await first.evaluate(() => typeof SharedWorker)).toBe('function')
    const [conn] = sb.connections.values()
    await first.close()
    await sb.publish('share:w', { n: 1 })
    for (const page of others)
      await until(async () => (await offsetsIn(page, 'share:w')).length === 1, 5000, 'one')
    // The same connection, and no tab reconnected: the worker, not a tab, holds it.
    expect([...sb.connections.values()]).toEqual([conn])
    for (const page of others) {
      expect(await page.evaluate(() => (globalThis as TestWindow).probe.states)).toEqual([
        'connected:connected',
      ])
    }
  }, 60_000)

  it('drops the shared connection for every tab when the browser goes offline, and resumes all', async () => {
    const sb = (await setup()).sb
    const channels = ['share:off']
    const tabs = [await tab({ share: 'leader', channels }), await tab({ share: 'leader', channels })]
    for (const page of tabs) await until(() => allSubscribed(page, channels), 10_000, 'subscribed')
    const [first] = sb.connections.values()
    await sb.publish('share:off', { n: 1 })
    const states = () =>
      Promise.all(tabs.map((page) => page.evaluate(() => (globalThis as TestWindow).probe.states)))
    const before = (await states()).map((s) => s.length)
    await context!.setOffline(true)
    // Every tab drops at once, not after the heartbeat: by its own offline event, or because
    // another tab dropped the connection they share first.
    const since = async () => (await states()).map((s, i) => s.slice(before[i]))
    await until(async () => (await since()).every((s) => s.length > 0), 3000, 'dropped')
    const dropped = (await since()).map((s) => s[0])
    expect(dropped).toContain('reconnecting:offline')
    for (const state of dropped) {
      expect(['reconnecting:offline', 'reconnecting:connection_lost']).toContain(state)
    }
    for (let n = 2; n <= 4; n++) await sb.publish('share:off', { n })
    await context!.setOffline(false)
    for (const page of tabs) {
      await until(async () => (await offsetsIn(page, 'share:off')).length === 4, 10_000, 'resumed')
      expect(await offsetsIn(page, 'share:off')).toEqual(upTo(4))
    }
    // One new connection for both tabs, not the one from before going offline.
    const now = [...sb.connections.values()].filter((c) => c.subscriptions.has('share:off'))
    expect(now.length).toBe(1)
    expect(now[0]).not.toBe(first)
  }, 60_000)

  it('gives a tab with share: false its own connection', async () => {
    await setup()
    const shared = [
      await tab({ share: 'leader', channels: ['share:o'] }),
      await tab({ share: 'leader', channels: ['share:o'] }),
    ]
    for (const page of shared) await until(() => allSubscribed(page, ['share:o']), 10_000, 'subscribed')
    const alone = await tab({ share: false, channels: ['share:o'] })
    await until(() => allSubscribed(alone, ['share:o']), 10_000, 'alone subscribed')
    expect(connections()).toBe(2)
    const ids = await Promise.all(
      [...shared, alone].map((p) => p.evaluate(() => (globalThis as TestWindow).probe.client.connectionId)),
    )
    expect(ids[0]).toBe(ids[1])
    expect(ids[2]).not.toBe(ids[0])
  }, 60_000)
})
