/**
 * What the chat app's browser tests share: building the app when its sources are newer than the
 * build, a `switchboard serve` process on a fixed port (started, polled on /healthz, stopped with
 * SIGTERM), a headless Chromium from Debian's package, `chatBench()` which sets all three up for
 * one test file, the page reads and actions every test uses, and `launchTabbedChromium()`, a
 * Chromium whose background tabs are really hidden and throttled.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@switchboard/testing'
import { launchChromium, root, ServeProcess } from '@switchboard/testing/browser'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'

export { freePort, launchChromium, root, ServeProcess }
export const app = join(root, 'apps/chat')

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
export function buildIfStale(): void {
  const built = join(app, 'dist/index.html')
  const sources = newest([
    join(app, 'src'),
    join(app, 'index.html'),
    join(app, 'public'),
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

/**
 * What Chrome does to a background tab, and what `chromium.launch()` turns off: Playwright adds
 * `--disable-background-timer-throttling`, `--disable-renderer-backgrounding` and
 * `--disable-backgrounding-occluded-windows` to every launch, and enables focus emulation
 * (`Emulation.setFocusEmulationEnabled`) on every page it attaches to, which keeps a page visible
 * (it counts as captured) whatever tab is in front. So for a real background tab, Chromium is
 * started here with none of those flags (new headless mode, one window with tabs) and
 * Playwright attached over CDP with `noDefaults`, which leaves the default context's pages
 * without focus emulation.
 */
export const THROTTLING_OFF_FLAGS = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
] as const

export interface TabbedChromium {
  browser: Browser
  /** The default context: its pages are tabs of one window, the newest in front. */
  context: BrowserContext
  /** The command line Chromium was started with. */
  args: readonly string[]
  close(): Promise<void>
}

/**
 * A headless Chromium whose pages are tabs of one window, like a user's: opening or bringing a
 * page to the front hides the one that was in front (`document.visibilityState === 'hidden'`),
 * and Chrome then throttles its timers as it does any background tab. The first tab is
 * `context.pages()[0]`.
 */
export async function launchTabbedChromium(): Promise<TabbedChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'))
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    'about:blank',
  ]
  const child = spawn('/usr/bin/chromium', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stderr = ''
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${stderr}`)), 15_000)
      child.stderr?.on('data', (d) => {
        stderr += d
        const found = /DevTools listening on (ws:\S+)/.exec(stderr)
        if (found) {
          clearTimeout(timer)
          resolve(found[1]!)
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`chromium exited (${code}):\n${stderr}`))
      })
    })
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true })
    const context = browser.contexts()[0]
    if (!context) throw new Error('chromium has no default context')
    return {
      browser,
      context,
      args,
      async close() {
        // Browser.close ends the process itself; connectOverCDP's close only disconnects.
        const session = await browser.newBrowserCDPSession().catch(() => undefined)
        await session?.send('Browser.close').catch(() => undefined)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
        rmSync(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    child.kill('SIGKILL')
    await exited
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
}

/**
 * Sets up one test file: the app built, `switchboard serve` (with `flags`) on a free port, and
 * Chromium; all stopped after the file. Read `server` and `browser` inside the tests.
 */
export function chatBench(flags: string[] = []): {
  readonly server: ServeProcess
  readonly browser: Browser
} {
  let server: ServeProcess | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    buildIfStale()
    server = new ServeProcess(await freePort(), flags)
    await server.start()
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })
  return {
    get server() {
      return server!
    },
    get browser() {
      return browser!
    },
  }
}

/** The connection badge's state: `connected`, `connecting`, `closed`… */
export const badge = (page: Page) => page.getByTestId('connection').getAttribute('data-state')

/** The names in the room's member list. */
export const members = (page: Page) => page.locator('[data-testid=members] .member-name').allTextContents()

/** Types `text` in the composer and sends it with Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const box = page.locator('.composer textarea')
  await box.fill(text)
  await box.press('Enter')
}
