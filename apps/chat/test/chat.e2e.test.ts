/**
 * The chat app in real Chromium (playwright-core, /usr/bin/chromium) against a real server
 * process: `node packages/cli/dist/bin.js serve --port <port>` — what `npm start` runs, serving
 * the built app at / by default. Two browser
 * contexts chat in one room; the server is stopped with SIGTERM and started again on the same
 * port mid-conversation; both pages must show reconnecting, send what was written offline once
 * the server is back, and end with every message exactly once. Leaves a screenshot in
 * apps/chat/test-results/.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { app, badge, chatBench, members, send } from './e2e-support.js'

const results = join(app, 'test-results')

const bench = chatBench()
const pageErrors: string[] = []

async function openChat(name: string, path: string): Promise<Page> {
  const context = await bench.browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(`http://127.0.0.1:${bench.server.port}${path}`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return page
}

/** The messages shown, in order: text (without the pending marker) and delivery state. */
function shown(page: Page): Promise<Array<{ text: string; delivery: string }>> {
  return page.$$eval('[data-testid=message]', (els) =>
    els.map((el) => ({
      text: el.querySelector('.message-text')?.firstChild?.textContent ?? '',
      delivery: (el as HTMLElement).dataset.delivery ?? '',
    })),
  )
}

beforeAll(() => {
  mkdirSync(results, { recursive: true })
})

describe.sequential('chat app in Chromium against switchboard serve', () => {
  it('two people chat, the server restarts mid-conversation, nothing is lost or doubled', async () => {
    const alice = await openChat('Alice', '/#launch')
    // Bob starts in the default room and joins #launch from the sidebar.
    const bob = await openChat('Bob', '/')
    await bob.getByLabel('Join or create a room').fill('Launch')
    await bob.getByRole('button', { name: 'Join', exact: true }).click()
    await expect.poll(() => bob.locator('.room-title h1').textContent()).toBe('#launch')

    for (const page of [alice, bob]) {
      await expect.poll(() => badge(page)).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob'])
    }

    await send(alice, 'Morning! Is the launch still on for today?')
    await expect
      .poll(() => shown(bob))
      .toEqual([{ text: 'Morning! Is the launch still on for today?', delivery: 'sent' }])
    // Typing indicator, both ways of ending it.
    await bob.locator('.composer textarea').fill('Yes')
    await expect.poll(() => alice.getByTestId('typing').textContent()).toBe('Bob is typing…')
    await send(bob, 'Yes — go/no-go call at 3pm.')
    await expect.poll(() => alice.getByTestId('typing').textContent()).toBe('')
    await send(alice, 'Great, I will bring the checklist.')
    const before = [
      'Morning! Is the launch still on for today?',
      'Yes — go/no-go call at 3pm.',
      'Great, I will bring the checklist.',
    ]
    for (const page of [alice, bob]) {
      await expect.poll(async () => (await shown(page)).map((m) => m.text)).toEqual(before)
    }

    // The server goes away mid-conversation.
    await bench.server.stop()
    for (const page of [alice, bob]) await expect.poll(() => badge(page)).toBe('reconnecting')
    await send(alice, 'Did we lose the server?')
    await send(bob, 'Looks like it — my messages are queued.')
    await expect
      .poll(async () => (await shown(alice)).at(-1))
      .toEqual({ text: 'Did we lose the server?', delivery: 'pending' })
    await expect
      .poll(async () => (await shown(bob)).at(-1))
      .toEqual({ text: 'Looks like it — my messages are queued.', delivery: 'pending' })

    // Back on the same port: both reconnect, queued messages go out once, nothing doubles. The two
    // queued ones are shown in the order they landed in the channel (whoever reconnected first),
    // the same order on both screens.
    await bench.server.start()
    const queued = ['Did we lose the server?', 'Looks like it — my messages are queued.']
    for (const page of [alice, bob]) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect
        .poll(async () => (await shown(page)).filter((m) => m.delivery === 'sent').length, {
          timeout: 15_000,
        })
        .toBe(before.length + queued.length)
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob'])
    }
    const after = (await shown(alice)).map((m) => m.text)
    expect(after.slice(0, before.length)).toEqual(before)
    expect([...after.slice(before.length)].sort()).toEqual([...queued].sort())
    expect((await shown(bob)).map((m) => m.text)).toEqual(after)
    // And the conversation goes on.
    await send(bob, 'All good now, thanks!')
    await expect
      .poll(async () => (await shown(alice)).map((m) => m.text))
      .toEqual([...after, 'All good now, thanks!'])
    await new Promise((r) => setTimeout(r, 300))
    expect((await shown(alice)).length).toBe(after.length + 1)
    expect((await shown(bob)).length).toBe(after.length + 1)

    await alice.locator('.composer textarea').click()
    await bob.locator('.composer textarea').fill('Shipping it')
    await expect.poll(() => alice.getByTestId('typing').textContent()).toBe('Bob is typing…')
    await alice.screenshot({ path: join(results, 'chat.png') })
    await alice.setViewportSize({ width: 390, height: 780 })
    // Let the sidebar's drawer transition finish.
    await new Promise((r) => setTimeout(r, 400))
    await alice.screenshot({ path: join(results, 'chat-mobile.png') })
    expect(pageErrors).toEqual([])
  }, 60_000)
})
