/**
 * The chat app in real Chromium (playwright-core, /usr/bin/chromium) where WebSocket cannot be
 * used, against a real `switchboard serve` process. Alice's page has no `window.WebSocket` at all
 * (removed by an init script): her client must fall back to SSE. Carol's page has no WebSocket
 * either and her `/ws/sse` requests are aborted, as a proxy that buffers event streams would
 * break them: she must end up on long-polling. Bob keeps a WebSocket. The three chat in one room,
 * every message reaching everyone once, and the network log shows which transport each used.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const app = join(root, 'apps/chat')
const cli = join(root, 'packages/cli/dist/bin.js')

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
let browser: Browser | undefined
const pageErrors: string[] = []

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
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${serverLog}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface Opened {
  page: Page
  /** `METHOD path` of every request the page made to the Switchboard endpoints. */
  requests: string[]
}

async function openChat(
  name: string,
  setup: { noWebSocket?: boolean; blockSse?: boolean } = {},
): Promise<Opened> {
  const context = await browser!.newContext()
  if (setup.noWebSocket) {
    await context.addInitScript(() => {
      // A browser (or a proxy-crippled one) without WebSocket at all.
      delete (window as { WebSocket?: unknown }).WebSocket
    })
  }
  if (setup.blockSse) await context.route('**/ws/sse**', (route) => route.abort())
  const page = await context.newPage()
  const requests: string[] = []
  page.on('request', (req) => {
    const path = new URL(req.url()).pathname
    if (path.startsWith('/ws')) requests.push(`${req.method()} ${path.replace(/[A-Za-z0-9_-]{24}$/, '<id>')}`)
  })
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(`http://127.0.0.1:${port}/#fallback`)
  await page.locator('#name').fill(name)
  await page.getByRole('button', { name: 'Start chatting' }).click()
  return { page, requests }
}

const badge = (page: Page) => page.getByTestId('connection').getAttribute('data-state')
const texts = (page: Page) =>
  page.$$eval('[data-testid=message]', (els) =>
    els.map((el) => el.querySelector('.message-text')?.firstChild?.textContent ?? ''),
  )
const members = (page: Page) => page.locator('[data-testid=members] .member-name').allTextContents()

async function send(page: Page, text: string): Promise<void> {
  const box = page.locator('.composer textarea')
  await box.fill(text)
  await box.press('Enter')
}

beforeAll(async () => {
  buildIfStale()
  port = await freePort()
  await startServer()
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  const child = server
  if (child && child.exitCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await exited
  }
})

describe('chat app without WebSocket, in Chromium', () => {
  it('connects and chats over SSE and long-polling beside a WebSocket user', async () => {
    const alice = await openChat('Alice', { noWebSocket: true })
    const carol = await openChat('Carol', { noWebSocket: true, blockSse: true })
    const bob = await openChat('Bob')
    const all = [alice, carol, bob]
    for (const { page } of all) {
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBe('connected')
      await expect.poll(() => members(page)).toEqual(['Alice', 'Bob', 'Carol'])
    }

    await send(alice.page, 'Hello from SSE')
    await send(carol.page, 'Hello from long-polling')
    await send(bob.page, 'Hello from WebSocket')
    for (const { page } of all) {
      await expect
        .poll(async () => (await texts(page)).sort())
        .toEqual(['Hello from SSE', 'Hello from WebSocket', 'Hello from long-polling'])
    }
    await new Promise((r) => setTimeout(r, 300))
    for (const { page } of all) expect(await texts(page)).toHaveLength(3)

    // Alice streamed over SSE and POSTed her frames; she never polled.
    expect(alice.requests).toContain('GET /ws/sse')
    expect(alice.requests).toContain('POST /ws/sse/<id>')
    expect(alice.requests.some((r) => r.includes('/ws/poll'))).toBe(false)
    // Carol's SSE attempt was cut, so she polls.
    expect(carol.requests).toContain('GET /ws/sse')
    expect(carol.requests).toContain('POST /ws/poll')
    expect(carol.requests).toContain('GET /ws/poll/<id>')
    expect(carol.requests).toContain('POST /ws/poll/<id>')
    // Bob's page made no HTTP transport request: his WebSocket opened.
    expect(bob.requests.filter((r) => r !== 'GET /ws')).toEqual([])
    expect(pageErrors).toEqual([])
  }, 60_000)
})
