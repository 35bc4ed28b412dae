/**
 * The operations dashboard in real Chromium (playwright-core, /usr/bin/chromium) against a real
 * `switchboard serve --dashboard` process with real WebSocket clients: the counts shown match the
 * clients connected (and follow them live), a publish from the dashboard reaches a subscriber
 * (and its live tail and history), disconnecting a user closes its connections, a read-only key
 * sees no action, a `switchboard dashboard-link` link logs in and an expired one does not; a
 * screenshot of each page (laptop and phone).
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { root } from '../../chat/test/e2e-support.js'
import { dashboardBench, FULL_KEY, logIn, READ_KEY, screenshot } from './dashboard-bench.js'

const bench = dashboardBench()
const errors: string[] = []

async function open(width = 1366, height = 900): Promise<Page> {
  const context = await bench.browser.newContext({ viewport: { width, height } })
  const page = await context.newPage()
  page.on('pageerror', (err) => errors.push(err.message))
  return page
}

const tile = (page: Page, id: string) => page.getByTestId(id).textContent()

describe.sequential('the dashboard in Chromium against switchboard serve --dashboard', () => {
  it('shows as many connections as there are clients, live, per node and for the cluster', async () => {
    const alice = await bench.client('alice')
    const bob = await bench.client('bob')
    for (const [c, channel] of [
      [alice, 'chat:lobby'],
      [bob, 'chat:lobby'],
      [bob, 'chat:ops'],
    ] as const) {
      c.send({ type: 'subscribe', id: channel, channel })
      await c.next('reply')
    }
    const page = await open()
    await page.goto(bench.url)
    await screenshot(page, 'login')
    await logIn(page, bench.url, FULL_KEY)
    await expect.poll(() => page.getByTestId('stream-state').getAttribute('data-live')).toBe('true')
    await expect.poll(() => tile(page, 'connections')).toBe('2')
    await expect.poll(() => tile(page, 'subscriptions')).toBe('3')
    await expect.poll(() => page.getByTestId('node-connections').allTextContents()).toEqual(['2'])
    await expect.poll(() => page.getByTestId('alerts').textContent()).toContain('None')
    // Live, without reloading: one more client, then one less.
    const carol = await bench.client('carol')
    await expect.poll(() => tile(page, 'connections')).toBe('3')
    carol.ws.close(1000)
    await expect.poll(() => tile(page, 'connections')).toBe('2')
    await expect
      .poll(() =>
        page
          .getByTestId('closes')
          .getByRole('row', { name: /Normal/ })
          .textContent(),
      )
      .toMatch(/1$/)
    // The node's own numbers are the cluster's on one node.
    await page.getByLabel('Numbers of').selectOption({ index: 1 })
    await expect.poll(() => tile(page, 'connections')).toBe('2')
    await page.waitForTimeout(1500)
    await screenshot(page, 'overview')
    const phone = await open(390, 844)
    await logIn(phone, bench.url, READ_KEY)
    await expect.poll(() => tile(phone, 'connections')).toBe('2')
    await screenshot(phone, 'overview-phone')
  })

  it('lists channels with their subscribers; a publish from the channel page reaches a subscriber', async () => {
    const page = await open()
    await logIn(page, bench.url, FULL_KEY)
    await page.getByRole('link', { name: 'Channels' }).click()
    await page.getByLabel('Search channels').fill('lobby')
    await page.getByRole('button', { name: 'Search' }).click()
    const row = page.getByTestId('channels').getByRole('row', { name: /chat:lobby/ })
    await expect.poll(() => row.getByTestId('subscribers').textContent()).toBe('2')
    await expect.poll(() => page.getByTestId('channels').getByRole('row').count()).toBe(2)
    await page.getByLabel('Search channels').fill('')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => page.getByTestId('channels').getByRole('row').count()).toBe(3)
    await screenshot(page, 'channels')

    const subscriber = await bench.client('dave')
    subscriber.send({ type: 'subscribe', id: 's', channel: 'chat:lobby' })
    await subscriber.next('reply')
    await page.getByRole('link', { name: 'chat:lobby' }).click()
    await expect.poll(() => page.getByTestId('presence').textContent()).toContain('alice')
    await page.getByLabel('Data (JSON)').fill('{"user": "ops", "text": "maintenance at 22:00"}')
    await page.getByRole('button', { name: 'Publish to chat:lobby' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/Published at offset \d+/)
    const message = await subscriber.next('message')
    expect(message).toMatchObject({
      channel: 'chat:lobby',
      data: { user: 'ops', text: 'maintenance at 22:00' },
    })
    await expect.poll(() => page.getByTestId('tail').textContent()).toContain('maintenance at 22:00')
    await expect.poll(() => page.getByTestId('history').textContent()).toContain('maintenance at 22:00')
    await screenshot(page, 'channel')
  })

  it('finds a user, and disconnecting it (confirmed) closes every connection it has', async () => {
    const m1 = await bench.client('mallory')
    const m2 = await bench.client('mallory')
    m2.send({ type: 'subscribe', id: 'x', channel: 'chat:lobby' })
    await m2.next('reply')
    const page = await open()
    await logIn(page, bench.url, FULL_KEY)
    await page.getByRole('link', { name: 'Users' }).click()
    await page.getByLabel('User id').fill('mallory')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect.poll(() => page.getByTestId('connection').count()).toBe(2)
    await page.getByTestId('connections').getByRole('link', { name: 'mallory' }).first().click()
    await expect
      .poll(() => page.getByTestId('user-connection-count').textContent())
      .toBe('2 open connection(s)')
    const rows = await page.getByTestId('connection').allTextContents()
    expect(rows.join(' ')).toContain('websocket')
    expect(rows.join(' ')).toContain('127.0.0.1')
    expect(rows.join(' ')).toContain('chat:lobby')
    await screenshot(page, 'user')
    // Cancelling does nothing.
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click()
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(m1.ws.readyState).toBe(m1.ws.OPEN)
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click()
    await page.getByRole('button', { name: 'Disconnect every connection' }).click()
    // 4004 user_disconnected: the SDK does not reconnect.
    for (const c of [m1, m2]) expect((await c.closed).code).toBe(4004)
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Closed 2 connection(s) of mallory.')
    await expect
      .poll(() => page.getByTestId('user-connection-count').textContent())
      .toBe('0 open connection(s)')
    // Revoking the user's tokens (confirmed) stores a revocation through POST /api/revoke.
    await page.getByRole('button', { name: 'Revoke tokens' }).click()
    await page.getByRole('button', { name: 'Revoke', exact: true }).click()
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toBe('The tokens of mallory issued until now are revoked.')
  })

  it('a read-only key sees everything and no action', async () => {
    await bench.client('erin')
    const page = await open()
    await logIn(page, bench.url, READ_KEY)
    expect(await page.getByTestId('access').textContent()).toBe('read-only')
    await page.goto(`${bench.url}#/channels/chat:lobby`)
    await expect.poll(() => page.getByTestId('presence').textContent()).toContain('alice')
    await expect.poll(() => page.getByTestId('history').textContent()).toContain('maintenance at 22:00')
    await page.goto(`${bench.url}#/users/erin`)
    await expect
      .poll(() => page.getByTestId('user-connection-count').textContent())
      .toBe('1 open connection(s)')
    // What a full key sees and this one does not.
    expect(await page.getByRole('button').allTextContents()).toEqual(['Log out'])
    await page.goto(`${bench.url}#/channels/chat:lobby`)
    await expect.poll(() => page.getByTestId('history').count()).toBe(1)
    expect(await page.getByLabel('Data (JSON)').count()).toBe(0)
    expect(await page.getByRole('button').allTextContents()).toEqual(['Log out'])
  })

  it('switchboard dashboard-link prints a link that logs in; an expired link does not', async () => {
    const link = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [
          join(root, 'packages/cli/dist/bin.js'),
          'dashboard-link',
          '--api',
          `http://127.0.0.1:${bench.server.port}`,
          ...args,
        ],
        { env: { ...process.env, SWITCHBOARD_API_KEY: FULL_KEY }, encoding: 'utf8' },
      )
      expect(r.status, r.stderr).toBe(0)
      return r.stdout.trim()
    }
    const url = link('--read-only')
    expect(url).toMatch(new RegExp(`^${bench.url}#link=sbt1\\.link\\.read\\.`))
    const page = await open()
    await page.goto(url)
    await expect.poll(() => page.getByTestId('access').textContent()).toBe('read-only')
    // The token left the address bar; the session is in this tab's sessionStorage.
    expect(page.url()).not.toContain('link=')
    await page.reload()
    await expect.poll(() => page.getByTestId('access').textContent()).toBe('read-only')

    const expired = link('--ttl', '1')
    await new Promise((r) => setTimeout(r, 2100))
    const other = await open()
    await other.goto(expired)
    await expect.poll(() => other.getByRole('alert').textContent()).toContain('expired')
    expect(errors).toEqual([])
  })
})
