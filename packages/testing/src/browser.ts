/**
 * What the browser tests of the apps (the chat app, the dashboard) share: `switchboard serve` as
 * a process on one port (started, polled on /healthz, stopped with SIGTERM, started again), and a
 * headless Chromium from Debian's package (`/usr/bin/chromium`, driven by playwright-core). A
 * subpath of its own (`@switchboard/testing/browser`), so that Node-only tests never load
 * playwright-core.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'

/** The repository's root folder. */
export const root = fileURLToPath(new URL('../../../', import.meta.url))
const cli = join(root, 'packages/cli/dist/bin.js')

/** `switchboard serve` on one port, as `npm start` runs it; it may be stopped and started again. */
export class ServeProcess {
  /** Everything the process printed, across restarts. */
  log = ''
  private child: ChildProcess | undefined

  constructor(
    readonly port: number,
    /** More `serve` flags (e.g. `--jwt-secret`). */
    private readonly flags: string[] = [],
  ) {}

  async start(): Promise<void> {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`)
    const args = [cli, 'serve', '--port', String(this.port), '--host', '127.0.0.1', ...this.flags]
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (d) => {
      this.log += d
    })
    child.stderr?.on('data', (d) => {
      this.log += d
    })
    this.child = child
    const deadline = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${this.log}`)
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).ok) return
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`server did not start:\n${this.log}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** SIGTERM (the server drains), SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}
