/**
 * The chat app's states, photographed in real Chromium against real servers: connected (a room
 * with a conversation, a link, the members), reconnecting (the server gone: badge, grey members,
 * a message waiting), a session whose token expired (`--jwt-secret`), and the phone layout. Each
 * state is checked before its picture is taken. The pictures go to apps/chat/test-results/, or,
 * with `SWITCHBOARD_SCREENSHOTS=docs` (`npm run screenshots -w @switchboard/chat`), to docs/chat/,
 * where the README shows them.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { signToken } from '@switchboard/cli'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  badge,
  buildIfStale,
  freePort,
  launchChromium,
  members,
  root,
  ServeProcess,
  send,
} from './e2e-support.js'

const dir =
  process.env.SWITCHBOARD_SCREENSHOTS === 'docs'
    ? join(root, 'docs/chat')
    : join(root, 'apps/chat/test-results')
let browser: Browser | undefined
const servers: ServeProcess[] = []

beforeAll(async () => {
  buildIfStale()
  mkdirSync(dir, { recursive: true })
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  for (const server of servers) await server.stop()
})

async function server(flags: string[] = []): Promise<ServeProcess> {
  const s = new ServeProcess(await freePort(), flags)
  await s.start()
  servers.push(s)
  return s
}

async function person(port: number, name: string, viewport = { width: 1280, height: 760 }): Promise<Page> {
  const page = await (await browser!.newContext({ viewport })).newPage()
  await page.goto(`http://127.0.0.1:${port}/#design`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
  return page
}

describe.sequential('screenshots of the chat app', () => {
  it('connected, reconnecting and the phone layout', async () => {
    const s = await server()
    const ada = await person(s.port, 'Ada Lovelace')
    const grace = await person(s.port, 'Grace Hopper')
    await expect.poll(() => members(ada)).toEqual(['Ada Lovelace', 'Grace Hopper'])
    await send(ada, 'Morning! The new build is up — notes at https://example.com/release-notes')
    await send(grace, 'Thanks, reading them now.')
    await send(grace, 'Reloads keep what you typed offline, by the way.')
    await send(ada, 'And one name in two browsers shows as two people, marked unverified.')
    await expect.poll(async () => await ada.locator('[data-testid=message]').count()).toBe(4)
    await expect.poll(() => ada.locator('[data-delivery=pending]').count()).toBe(0)
    await ada.screenshot({ path: join(dir, 'connected.png') })

    await s.stop()
    await expect.poll(() => badge(ada)).toBe('reconnecting')
    await expect.poll(() => ada.getByTestId('members').getAttribute('data-reachable')).toBe('false')
    await send(ada, 'Is the server down? This waits in the outbox.')
    await expect.poll(() => ada.locator('[data-delivery=pending]').count()).toBe(1)
    await ada.screenshot({ path: join(dir, 'reconnecting.png') })
    await s.start()
    await expect.poll(() => badge(ada), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => ada.locator('[data-delivery=pending]').count(), { timeout: 15_000 }).toBe(0)

    await grace.setViewportSize({ width: 390, height: 780 })
    await new Promise((r) => setTimeout(r, 400))
    await grace.screenshot({ path: join(dir, 'phone.png') })
    // The closed drawer is out of sight (no shadow at the edge) and out of the tab order.
    expect(await grace.locator('.sidebar').isVisible()).toBe(false)
    await grace.getByRole('button', { name: 'Rooms and members' }).click()
    await new Promise((r) => setTimeout(r, 400))
    expect(await grace.locator('.sidebar').isVisible()).toBe(true)
    await grace.screenshot({ path: join(dir, 'phone-menu.png') })
  }, 60_000)

  it('token expired', async () => {
    const secret = 'screenshot-secret'
    const s = await server(['--jwt-secret', secret])
    const token = await signToken({
      secret,
      sub: 'u-ada',
      ttl: 3,
      claims: { name: 'Ada Lovelace' },
      iss: undefined,
      aud: undefined,
    })
    const page = await (await browser!.newContext({ viewport: { width: 1280, height: 760 } })).newPage()
    await page.goto(`http://127.0.0.1:${s.port}/?token=${token}#design`)
    await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
    await send(page, 'Sent before the token ran out.')
    await expect
      .poll(() => page.getByTestId('session-notice').getAttribute('data-kind', { timeout: 1000 }), {
        timeout: 10_000,
      })
      .toBe('expired')
    await page.screenshot({ path: join(dir, 'token-expired.png') })
  }, 60_000)
})
