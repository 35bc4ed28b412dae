/**
 * The chat app in real Chromium against `switchboard serve --jwt-secret`: the identity is a JWT
 * (from `/?token=…`, as `switchboard token` prints it, or pasted), never a typed name. Two users
 * with valid tokens chat under the names their tokens carry; a forged token gets the "refused"
 * notice and never shows up as a member; a browser without a token is told on screen what is
 * needed. A token about to expire is renewed through `getToken` with one the person pasted — the
 * connection carries on past the old token's expiry without a reconnect; one that is not renewed
 * ends the session, and the app says so instead of offering to send "when you're back online".
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { signToken } from '@switchboard/cli'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { badge, chatBench, members, send } from './e2e-support.js'

const SECRET = 'e2e-secret'
const cli = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url))
const bench = chatBench(['--jwt-secret', SECRET])
const pageErrors: string[] = []

const token = (secret: string, sub: string, name: string, ttl = 600) =>
  signToken({ secret, sub, ttl, claims: { name }, iss: undefined, aud: undefined })

async function openPage(path: string): Promise<Page> {
  const page = await (await bench.browser.newContext()).newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(`http://127.0.0.1:${bench.server.port}${path}`)
  return page
}

const authors = (page: Page) => page.locator('[data-testid=message] .message-user').allTextContents()
const notice = (page: Page) => page.getByTestId('session-notice').getAttribute('data-kind', { timeout: 1000 })

describe('chat app with JWT identities, in Chromium', () => {
  it('chats under the names the tokens carry; a forged token is refused on screen; no token, no name screen', async () => {
    const alice = await openPage(`/?token=${await token(SECRET, 'u-alice', 'Alice')}#jwt`)
    const bob = await openPage(`/?token=${await token(SECRET, 'u-bob', 'Bob')}#jwt`)
    for (const page of [alice, bob]) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob'])
      // Verified names carry no "unverified" mark; the token left the address bar.
      expect(await page.locator('[data-testid=members] .unverified').count()).toBe(0)
      expect(page.url()).not.toContain('token=')
    }
    await send(alice, 'signed and verified')
    await expect.poll(() => authors(bob)).toEqual(['Alice'])

    const forged = await openPage(`/?token=${await token('not-the-secret', 'u-eve', 'Eve')}#jwt`)
    await expect.poll(() => badge(forged), { timeout: 10_000 }).toBe('closed')
    await expect.poll(() => notice(forged)).toBe('refused')
    await expect(forged.getByTestId('session-notice').textContent()).resolves.toContain(
      'The server refused this sign-in token',
    )
    expect(await forged.locator('.composer textarea').isDisabled()).toBe(true)

    // Without a token the page explains what is needed; there is no name to type.
    const bare = await openPage('/#jwt')
    await expect.poll(() => bare.getByTestId('token-missing').isVisible()).toBe(true)
    expect(await bare.getByTestId('token-missing').textContent()).toContain('Sign-in link needed')
    expect(await bare.locator('#name').count()).toBe(0)
    // The command the screen suggests makes a token (with the server's secret for the `…`), and
    // that token, pasted, signs in.
    const command = (await bare.getByTestId('token-command').textContent())!
      .replace('npx switchboard', `node ${cli}`)
      .replace('…', SECRET)
      .replace('--sub you', '--sub u-cy')
      .replace('Your name', 'Cy')
    const made = spawnSync('sh', ['-c', command], { encoding: 'utf8' })
    expect(made.stderr).toBe('')
    expect(made.status).toBe(0)
    await bare.locator('#token').fill(made.stdout.trim())
    await bare.getByRole('button', { name: 'Use token' }).click()
    await expect.poll(() => badge(bare), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => members(alice)).toEqual(['Alice', 'Bob', 'Cy'])
    expect(await members(alice)).not.toContain('Eve')
    expect(bench.server.log).not.toContain(SECRET)
    expect(pageErrors).toEqual([])
  }, 60_000)

  it('renews a token about to expire through getToken, on the same connection', async () => {
    const short = await token(SECRET, 'u-dee', 'Dee', 6)
    const expiresAt = Date.now() + 6000
    const dee = await openPage(`/?token=${short}#renew`)
    await expect.poll(() => badge(dee), { timeout: 15_000 }).toBe('connected')
    // Under two minutes left: the notice says when it ends and how to renew.
    await expect.poll(() => notice(dee)).toBe('expiring')
    await dee.locator('#token').fill(await token(SECRET, 'u-dee', 'Dee', 600))
    await dee.getByRole('button', { name: 'Use token' }).click()
    await expect.poll(() => dee.getByTestId('session-notice').count()).toBe(0)
    // Past the first token's expiry the page never left `connected`: the server asked for a
    // fresh token before expiry and getToken gave it the pasted one.
    const states = new Set<string | null>()
    while (Date.now() < expiresAt + 2500) {
      states.add(await badge(dee))
      await new Promise((r) => setTimeout(r, 100))
    }
    expect([...states]).toEqual(['connected'])
    const watcher = await openPage(`/?token=${await token(SECRET, 'u-eli', 'Eli')}#renew`)
    await expect.poll(() => members(watcher), { timeout: 15_000 }).toEqual(['Dee', 'Eli'])
    await send(dee, 'still here after my first token expired')
    await expect.poll(() => authors(watcher)).toEqual(['Dee'])
  }, 60_000)

  it('explains an expired session, and does not offer to send it later', async () => {
    const fay = await openPage(`/?token=${await token(SECRET, 'u-fay', 'Fay', 4)}#expiry`)
    await expect.poll(() => badge(fay), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => notice(fay), { timeout: 10_000 }).toBe('expired')
    expect(await badge(fay)).toBe('closed')
    const text = await fay.getByTestId('session-notice').textContent()
    expect(text).toContain('Your session expired at')
    expect(text).toContain('Paste a new token')
    const box = fay.locator('.composer textarea')
    expect(await box.isDisabled()).toBe(true)
    expect(await box.getAttribute('placeholder')).not.toContain('back online')
    expect(await box.getAttribute('placeholder')).toBe('Sign in again to send messages')
    // A new token brings the session back.
    await fay.locator('#token').fill(await token(SECRET, 'u-fay', 'Fay', 600))
    await fay.getByRole('button', { name: 'Use token' }).click()
    await expect.poll(() => badge(fay), { timeout: 15_000 }).toBe('connected')
    await expect.poll(() => fay.getByTestId('session-notice').count()).toBe(0)
  }, 60_000)
})
