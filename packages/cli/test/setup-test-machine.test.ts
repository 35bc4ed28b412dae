// scripts/setup-test-machine.mjs, the first step of `npm test` (kept here because the root
// vitest config collects packages' tests): run as a real process on a fake machine — binaries
// are empty scripts in a temporary folder (SWITCHBOARD_SETUP_BIN_DIRS), Redis is a tiny server
// here answering PING (SWITCHBOARD_SETUP_REDIS_PORT); a fake python3 "has" a module when
// `python3 -c 'import <module>'` exits 0. Nothing is installed: the runs that find
// something missing use `--check`, which reports as a non-root run would, and apt-get is never
// among the fake binaries.
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../../../scripts/setup-test-machine.mjs', import.meta.url))
const ALL = ['chromium', 'redis-server', 'nginx', 'systemd-analyze', 'promtool', 'python3']

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A folder holding executable stand-ins named `names`; `body` is each one's shell script. */
function fakeBins(names: string[], body = 'exit 0'): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-setup-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  for (const name of names) addBin(dir, name, body)
  return dir
}

/** Adds (or replaces) the stand-in `name` in `dir`. */
function addBin(dir: string, name: string, body: string): string {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`)
  chmodSync(join(dir, name), 0o755)
  return dir
}

/** A server on a free port answering every line with +PONG, as Redis answers PING. */
async function fakeRedis(): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('data', () => socket.write('+PONG\r\n'))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  return (server.address() as net.AddressInfo).port
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(binDir: string, redisPort: number, args: string[] = []): Promise<Run> {
  const env = {
    ...process.env,
    SWITCHBOARD_SETUP_BIN_DIRS: binDir,
    SWITCHBOARD_SETUP_REDIS_PORT: String(redisPort),
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

describe('scripts/setup-test-machine.mjs (process)', () => {
  it('exits 0 and says nothing when everything is there', async () => {
    const r = await run(fakeBins(ALL), await fakeRedis())
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('stops with the exact apt-get command for what is missing (chromium)', async () => {
    const r = await run(
      fakeBins(['redis-server', 'nginx', 'systemd-analyze', 'promtool', 'python3']),
      await fakeRedis(),
      ['--check'],
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('chromium (the chat app browser tests)')
    expect(r.stderr).toContain(
      'sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n',
    )
    expect(r.stderr).not.toMatch(/nginx|systemd|redis|python/)
  })

  it('asks python3 for its modules, and names their Debian packages', async () => {
    // A python3 without msgpack: `python3 -c 'import msgpack'` fails, any other import works.
    const bins = addBin(fakeBins(ALL), 'python3', '[ "$2" = "import msgpack" ] && exit 1\nexit 0')
    const r = await run(bins, await fakeRedis(), ['--check'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('the Python module msgpack (the Python client test)')
    expect(r.stderr).toContain('sudo apt-get install -y --no-install-recommends python3-msgpack\n')
    expect(r.stderr).not.toContain('websockets')

    // No python3 at all: both modules are missing, and their packages bring python3 with them.
    const none = await run(fakeBins(ALL.filter((b) => b !== 'python3')), await fakeRedis(), ['--check'])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain(
      'sudo apt-get install -y --no-install-recommends python3-websockets python3-msgpack\n',
    )
  })

  it('names the Debian package of each missing binary (systemd-analyze is in systemd, promtool in prometheus)', async () => {
    const r = await run(fakeBins(['chromium', 'redis-server', 'python3']), await fakeRedis(), ['--check'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('promtool (deploy/test (the Prometheus alert rules))')
    expect(r.stderr).toContain('sudo apt-get install -y --no-install-recommends nginx systemd prometheus\n')
  })

  it('reports a Redis that does not answer, with the command that starts one', async () => {
    const port = await freePort()
    const r = await run(fakeBins(ALL), port, ['--check'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`no Redis answers on 127.0.0.1:${port}`)
    expect(r.stderr).toContain(
      `redis-server --daemonize yes --bind 127.0.0.1 --port ${port} --save "" --appendonly no`,
    )
  })

  it('starts redis-server when none answers, and fails if it cannot', async () => {
    // A redis-server that, like `--daemonize yes`, leaves a server behind and exits 0: it answers
    // one PING on the --port it was given, then goes away (or after 10 s, whatever happens).
    const starts = fakeBins(ALL, `"${process.execPath}" "$0.cjs" "$@" </dev/null >/dev/null 2>&1 &`)
    addBin(starts, 'python3', 'exit 0')
    writeFileSync(
      join(starts, 'redis-server.cjs'),
      `const port = Number(process.argv[process.argv.indexOf('--port') + 1])
      const server = require('node:net').createServer((s) => s.on('data', () => { s.end('+PONG\\r\\n'); server.close() }))
      server.listen(port, '127.0.0.1')
      setTimeout(() => process.exit(0), 10000).unref()`,
    )
    const port = await freePort()
    const started = await run(starts, port)
    expect(started.stderr).toContain(`starting redis-server on 127.0.0.1:${port}`)
    expect(started.code, started.stderr).toBe(0)

    const broken = await run(addBin(fakeBins(ALL, 'exit 3'), 'python3', 'exit 0'), await freePort())
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('redis-server did not start (exit 3)')
  })
})
