/**
 * The chat app in real Chromium (playwright-core, /usr/bin/chromium) against a real server
 * process: `node packages/cli/dist/bin.js serve --port <port>` — what `npm start` runs, serving
 * the built app at / by default. Two browser
 * contexts chat in one room; the server is stopped with SIGTERM and started again on the same
 * port mid-conversation; both pages must show reconnecting, send what was written offline once
 * the server is back, and end with every message exactly once. Leaves a screenshot in
 * apps/chat/test-results/.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const app = join(root, 'apps/chat')
const cli = join(root, 'packages/cli/dist/bin.js')
const results = join(app, 'test-results')

/** Newest modification time under the given paths (files or directories). */
function newest(paths: string[]): number {
  let max = 0
  const visit = (path: string): void => {
    if (!existsSync(path)) return
    const stat = statSync(path)
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules') visit(join(path, entry))
    } else max = Math.max(max, stat.mtimeMs)
  }
  for (const path of paths) visit(path)
  return max
}

/** Builds apps/chat/dist when it is missing or older than any source it is made from. */
function buildIfStale(): void {
  const built = join(app, 'dist/index.html')
  const sources = newest([
    join(app, 'src'),
    join(app, 'index.html'),
    join(app, 'vite.config.ts'),
    ...['react', 'client', 'protocol'].map((p) => join(root, 'packages', p, 'src')),
  ])
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return
  const vite = spawnSync(join(root, 'node_modules/.bin/vite'), ['build', app, '--logLevel', 'warn'], {
    cwd: root,
    encoding: 'utf8',
  })
  if (vite.status !== 0) throw new Error(`vite build failed:\n${vite.stdout}\n${vite.stderr}`)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

let port = 0
let server: ChildProcess | undefined
let serverLog = ''

async function startServer(): Promise<void> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`)
  const args = [cli, 'serve', '--port', String(port), '--host', '127.0.0.1']
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (d) => {
    serverLog += d
  })
  child.stderr?.on('data', (d) => {
    serverLog += d
  })
  server = child
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${serverLog}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`)
      if (res.ok) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${serverLog}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function stopServer(): Promise<void> {
  const child = server
  server = undefined
  if (!child || child.exitCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

let browser: Browser | undefined
const pageErrors: string[] = []

async function openChat(name: string, path: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(`http://127.0.0.1:${port}${path}`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return page
}

const badge = (page: Page) => page.getByTestId('connection').getAttribute('data-state')

/** The messages shown, in order: text (without the pending marker) and delivery state. */
function shown(page: Page): Promise<Array<{ text: string; delivery: string }>> {
  return page.$$eval('[data-testid=message]', (els) =>
    els.map((el) => ({
      text: el.querySelector('.message-text')?.firstChild?.textContent ?? '',
      delivery: (el as HTMLElement).dataset.delivery ?? '',
    })),
  )
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.locator('.composer textarea')
  await box.fill(text)
  await box.press('Enter')
}

const members = (page: Page) => page.locator('[data-testid=members] .member-name').allTextContents()

beforeAll(async () => {
  buildIfStale()
  mkdirSync(results, { recursive: true })
  port = await freePort()
  await startServer()
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await stopServer()
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
    await stopServer()
    for (const page of [alice, bob]) await expect.poll(() => badge(page)).toBe('reconnecting')
    await send(alice, 'Did we lose the server?')
    await send(bob, 'Looks like it — my messages are queued.')
    await expect
      .poll(async () => (await shown(alice)).at(-1))
      .toEqual({ text: 'Did we lose the server?', delivery: 'pending' })
    await expect
      .poll(async () => (await shown(bob)).at(-1))
      .toEqual({ text: 'Looks like it — my messages are queued.', delivery: 'pending' })

    // Back on the same port: both reconnect, queued messages go out once, nothing doubles.
    await startServer()
    const after = [...before, 'Did we lose the server?', 'Looks like it — my messages are queued.']
    for (const page of [alice, bob]) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect
        .poll(() => shown(page), { timeout: 15_000 })
        .toEqual(after.map((text) => ({ text, delivery: 'sent' })))
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob'])
    }
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
