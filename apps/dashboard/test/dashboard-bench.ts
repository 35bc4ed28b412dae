/**
 * What the dashboard's browser tests share: the dashboard built when stale, a `switchboard serve
 * --dashboard` process with a full and a read-only API key (from a config file), Chromium
 * (Debian's, through playwright-core), real WebSocket clients of that server, logging in through
 * the form, and the screenshots (`SWITCHBOARD_SCREENSHOTS=docs` writes them to docs/dashboard/,
 * where docs/operations.md shows them; otherwise to apps/dashboard/test-results/).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, freePort, type TestClient } from '@switchboard/testing'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium, root, ServeProcess } from '../../chat/test/e2e-support.js'

export const FULL_KEY = 'dash-full-key-0123456789abcdef'
export const READ_KEY = 'dash-read-key-0123456789abcdef'

const shots = process.env.SWITCHBOARD_SCREENSHOTS === 'docs'
export const screenshotDir = shots ? join(root, 'docs/dashboard') : join(root, 'apps/dashboard/test-results')

/** Builds the dashboard unless its build is up to date (the same check `npm run build` makes). */
function build(): void {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-apps.mjs'), 'dashboard'], {
    cwd: root,
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`the dashboard did not build:\n${r.stdout}\n${r.stderr}`)
}

export function dashboardBench(): {
  readonly server: ServeProcess
  readonly browser: Browser
  readonly url: string
  /** A WebSocket client of the server, named `name` (the dev login's `?name=`), closed after the file. */
  client(name: string): Promise<TestClient>
} {
  let server: ServeProcess | undefined
  let browser: Browser | undefined
  let dir: string | undefined
  const clients: TestClient[] = []
  beforeAll(async () => {
    build()
    mkdirSync(screenshotDir, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'switchboard-dashboard-'))
    const config = join(dir, 'switchboard.json')
    writeFileSync(
      config,
      JSON.stringify({
        dashboard: true,
        api: { keys: [{ key: FULL_KEY }, { key: READ_KEY, readOnly: true }] },
      }),
    )
    server = new ServeProcess(await freePort(), ['--config', config])
    await server.start()
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    for (const c of clients) c.ws.terminate()
    await browser?.close()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  return {
    get server() {
      return server!
    },
    get browser() {
      return browser!
    },
    get url() {
      return `http://127.0.0.1:${server!.port}/dashboard/`
    },
    async client(name: string) {
      const c = await connect(`ws://127.0.0.1:${server!.port}/ws?name=${encodeURIComponent(name)}`)
      clients.push(c)
      return c
    },
  }
}

/** Logs in through the form with the keyboard only: the key typed, Enter pressed. */
export async function logIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url)
  await page.getByLabel('API key').focus()
  await page.keyboard.type(key)
  await page.keyboard.press('Enter')
  await page.getByRole('navigation', { name: 'Dashboard' }).waitFor()
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true })
}
