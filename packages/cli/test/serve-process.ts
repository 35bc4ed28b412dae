// Runs the built `switchboard serve` as a real process for the tests: one that is expected to exit
// (a bad configuration, --print-config), or one that listens, with its logged URL and a stop.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

function built(): void {
  // `npm test` builds first; a missing build is a failure here, never a silent skip.
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`)
}

export interface Exited {
  code: number
  stdout: string
  stderr: string
}

/** Runs `switchboard serve ARGS` to its exit (10 s at most) with exactly `env` (plus PATH). */
export function runServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exited> {
  built()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, 'serve', ...args],
      { timeout: 10_000, env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

export interface Served {
  child: ChildProcess
  /** The WebSocket URL it logged (ws:// or wss://). */
  url: string
  port: number
  /** Everything written so far. */
  output(): string
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>
}

/** Starts `switchboard serve ARGS` and waits (10 s at most) for the URL it logs. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  built()
  const child = spawn(process.execPath, [bin, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const start = Date.now()
  const logged = () => /wss?:\/\/[^\s,]+:(\d+)[^\s,]*/.exec(out)
  let match = logged()
  while (!match) {
    if (child.exitCode !== null || Date.now() - start > 10_000) {
      child.kill('SIGKILL')
      throw new Error(`no URL logged: ${out}`)
    }
    await new Promise((r) => setTimeout(r, 20))
    match = logged()
  }
  return {
    child,
    url: match[0],
    port: Number(match[1]),
    output: () => out,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
