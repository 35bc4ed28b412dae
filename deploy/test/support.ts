/**
 * What the deployment tests share: the repository's paths, real `switchboard serve` processes
 * (the built CLI, as a unit file, a container or a proxy would start it), free ports, and a
 * lookup of system binaries that fails loudly — a deployment test never passes by skipping.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import net from 'node:net'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@switchboard/testing'

export { freePort }

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
export const deployDir = join(repoRoot, 'deploy')
export const cliBin = join(repoRoot, 'packages/cli/dist/bin.js')

/** Throws unless the CLI was built: these tests run the real command, not its sources. */
export function requireBuiltCli(): void {
  if (!existsSync(cliBin)) {
    throw new Error(`${cliBin} is missing: build first with \`npx tsc -b\` (npm test does it)`)
  }
}

/** The absolute path of a system binary (PATH, then the sbin directories), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Polls `check` until it is truthy; fails naming `what` after `ms`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  ms = 10_000,
): Promise<NonNullable<T>> {
  const start = Date.now()
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Resolves once a TCP connection to the port succeeds. */
export async function waitForPort(port: number, what: string): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1')
        socket.once('connect', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
      }),
    what,
  )
}

export interface Proc {
  child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>
}

/** Spawns a process that the caller must end; its output is collected for assertions. */
export function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d
  })
  child.stderr?.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

export interface Node extends Proc {
  url: string
  port: number
}

/** Waits for a `switchboard serve` process to log the URL it listens on. */
export async function listening(proc: Proc): Promise<Node> {
  const match = await Promise.race([
    waitFor(
      () => /switchboard listening on (ws:\/\/\S+)/.exec(proc.output()) ?? undefined,
      'switchboard to listen',
    ),
    proc.exited.then((code) => {
      throw new Error(`switchboard serve exited with ${code} before listening:\n${proc.output()}`)
    }),
  ])
  const url = match[1]!
  return { ...proc, url, port: Number(new URL(url).port) }
}

/** `node packages/cli/dist/bin.js serve <args>`, listening. */
export function serve(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Node> {
  return listening(start(process.execPath, [cliBin, 'serve', ...args], env))
}

/** Ends a process if it still runs (SIGKILL), for teardown. */
export async function kill(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return
  proc.child.kill('SIGKILL')
  await proc.exited
}
