/**
 * The chat app in real Chromium against `switchboard serve --jwt-secret`: the identity is a JWT
 * in the page's URL (`/?token=…`, as `switchboard token` prints it), not a typed name. Two users
 * with valid tokens chat under the names their tokens carry; a forged token and the dev `?name=`
 * login are both refused by the server, and never show up as members.
 */
import { signToken } from '@switchboard/cli'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { badge, chatBench, members, send } from './e2e-support.js'

const SECRET = 'e2e-secret'
const bench = chatBench(['--jwt-secret', SECRET])
const pageErrors: string[] = []

const token = (secret: string, sub: string, name: string) =>
  signToken({ secret, sub, ttl: 600, claims: { name }, iss: undefined, aud: undefined })

async function openPage(path: string): Promise<Page> {
  const page = await (await bench.browser.newContext()).newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(`http://127.0.0.1:${bench.server.port}${path}`)
  return page
}

const authors = (page: Page) => page.locator('[data-testid=message] .message-user').allTextContents()

describe('chat app with JWT identities, in Chromium', () => {
  it('chats under the names the tokens carry; a forged token and an unverified name get nowhere', async () => {
    const alice = await openPage(`/?token=${await token(SECRET, 'u-alice', 'Alice')}#jwt`)
    const bob = await openPage(`/?token=${await token(SECRET, 'u-bob', 'Bob')}#jwt`)
    for (const page of [alice, bob]) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob'])
    }
    await send(alice, 'signed and verified')
    await expect.poll(() => authors(bob)).toEqual(['Alice'])

    const forged = await openPage(`/?token=${await token('not-the-secret', 'u-eve', 'Eve')}#jwt`)
    const named = await openPage('/#jwt')
    await named.locator('#name').fill('Mallory')
    await named.getByRole('button', { name: 'Start chatting' }).click()
    // The forged token is refused and the page closed for good (4001, a terminal code). Neither
    // it nor the unverified name may ever become a member.
    await expect.poll(() => badge(forged), { timeout: 10_000 }).toBe('closed')
    // The page without a token is told by the hello that one is required, and stops at once.
    await expect.poll(() => badge(named), { timeout: 3000 }).toBe('closed')
    const deadline = Date.now() + 2000
    while (Date.now() < deadline) {
      expect(await members(alice)).toEqual(['Alice', 'Bob'])
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(await members(named)).toEqual([])
    expect(bench.server.log).not.toContain(SECRET)
    expect(pageErrors).toEqual([])
  }, 60_000)
})
