/**
 * The chat app with `switchboard serve --path /rt/ws`, in real Chromium: the page learns its
 * WebSocket path from the server (`switchboard.json`), not a fixed `/ws`, and two people chat.
 * (The app behind nginx at a path prefix is tested with the real nginx in deploy/test/nginx.test.ts.)
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { badge, chatBench, members, send } from './e2e-support.js'

const bench = chatBench(['--path', '/rt/ws'])

async function open(name: string): Promise<{ page: Page; sockets: string[] }> {
  const page = await (await bench.browser.newContext()).newPage()
  const sockets: string[] = []
  page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname))
  await page.goto(`http://127.0.0.1:${bench.server.port}/#paths`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return { page, sockets }
}

describe('chat app with serve --path /rt/ws', () => {
  it('connects to the WebSocket path the server announces', async () => {
    const ann = await open('Ann')
    const ben = await open('Ben')
    for (const { page } of [ann, ben]) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Ann', 'Ben'])
    }
    expect(ann.sockets).toEqual(['/rt/ws'])
    await send(ann.page, 'on another path')
    await expect
      .poll(() => ben.page.locator('[data-testid=message] .message-content').allTextContents())
      .toEqual(['on another path'])
  }, 60_000)
})
