#!/usr/bin/env node
// The first step of `npm test`: makes sure this machine has what the tests run for real —
// chromium (apps/chat's and apps/dashboard's browser tests, at /usr/bin/chromium), redis-server and
// a Redis answering on 127.0.0.1:6379 (packages/redis, packages/cli), nginx, systemd-analyze and
// promtool (Debian's prometheus package: deploy/test checks and unit-tests the alert rules), and
// Debian's python3 with its websockets and msgpack modules (packages/server's Python client
// test) — so that `npm test` passes on a fresh Debian machine with nothing installed by hand.
//
// Everything present: it prints nothing and exits 0 in a few milliseconds. Something missing:
//   - as root, it installs the packages with apt-get (keeping their services from starting, as
//     the tests start their own nginx and Redis on free ports);
//   - otherwise it stops at once, before the build, with the exact `sudo apt-get install` command.
// A Redis that is installed but not running is started (daemonized, no persistence).
//
// `--check` changes nothing on the machine: it reports what is missing as a non-root run would.
// For the script's own test, SWITCHBOARD_SETUP_BIN_DIRS (a PATH-like list) replaces every place
// binaries are looked for (python3 included: a Python module is there when that python3 imports
// it), and SWITCHBOARD_SETUP_REDIS_PORT the port Redis must answer on.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { delimiter, join } from 'node:path'

const checkOnly = process.argv.includes('--check')
const isRoot = process.getuid?.() === 0 && !checkOnly
const redisPort = Number(process.env.SWITCHBOARD_SETUP_REDIS_PORT || 6379)
const overrideDirs = process.env.SWITCHBOARD_SETUP_BIN_DIRS?.split(delimiter).filter(Boolean)

// Where the tests themselves look: deploy/test's findBinary searches PATH then the sbin folders;
// apps/chat's browser tests launch /usr/bin/chromium (where Debian's package puts it); the Redis
// tests spawn redis-server from PATH; the Python client test runs /usr/bin/python3, Debian's own
// interpreter — the one python3-* packages install for (a pyenv or venv python3 earlier on PATH
// does not see them).
// Each need is `what` the tests use, the Debian package `apt` that brings it, and `present()`.
const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
const sbinDirs = ['/usr/sbin', '/sbin', '/usr/local/sbin']
const binary = (name, apt, dirs, why) => ({ what: name, apt, for: why, present: () => !!find(name, dirs) })
const pythonModule = (name, apt, why) => ({
  what: `the Python module ${name}`,
  apt,
  for: why,
  present: () => pythonImports(name),
})
const needs = [
  binary('chromium', 'chromium', ['/usr/bin'], 'the chat app browser tests'),
  binary('redis-server', 'redis-server', pathDirs, 'the Redis tests'),
  binary('nginx', 'nginx', [...pathDirs, ...sbinDirs], 'deploy/test (nginx)'),
  binary('systemd-analyze', 'systemd', [...pathDirs, ...sbinDirs], 'deploy/test (systemd)'),
  binary('promtool', 'prometheus', [...pathDirs, ...sbinDirs], 'deploy/test (the Prometheus alert rules)'),
  pythonModule('websockets', 'python3-websockets', 'the Python client test'),
  pythonModule('msgpack', 'python3-msgpack', 'the Python client test'),
]

/** The path of an executable `name` in `dirs`, or undefined. */
function find(name, dirs) {
  for (const dir of overrideDirs ?? dirs) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/** Whether Debian's python3 (/usr/bin) is there and imports `module`. */
function pythonImports(module) {
  const python = find('python3', ['/usr/bin'])
  if (!python) return false
  return spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0
}

function fail(message) {
  console.error(`setup-test-machine: ${message}`)
  process.exit(1)
}

/** Resolves true if a Redis answers PING on 127.0.0.1:`port` within a short time. */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      reply += d
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

/**
 * apt-get as root, with a policy-rc.d that keeps the packages' services (nginx on :80, prometheus
 * on :9090) stopped.
 */
function aptInstall(packages) {
  if (!find('apt-get', ['/usr/bin', '/bin', ...pathDirs]))
    fail(`missing ${packages.join(', ')}, and there is no apt-get here to install them with`)
  console.error(`setup-test-machine: installing ${packages.join(' ')} (apt-get, as root)`)
  const policy = '/usr/sbin/policy-rc.d'
  const addedPolicy = !existsSync(policy)
  // exit 101 = "action denied": package scripts do not start (or restart) services.
  if (addedPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    for (const args of [
      ['update', '-q'],
      ['install', '-y', '-q', '--no-install-recommends', ...packages],
    ]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env })
      if (r.status !== 0) fail(`apt-get ${args[0]} failed (exit ${r.status ?? r.signal})`)
    }
  } finally {
    if (addedPolicy) rmSync(policy, { force: true })
  }
}

const missing = needs.filter((n) => !n.present())
if (missing.length > 0) {
  const packages = [...new Set(missing.map((n) => n.apt))]
  if (!isRoot) {
    const what = missing.map((n) => `${n.what} (${n.for})`).join(', ')
    fail(
      `npm test needs ${what}, which this machine does not have. Install with:\n\n` +
        `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(' ')}\n\n` +
        'then run npm test again (as root, npm test installs them itself).',
    )
  }
  aptInstall(packages)
  const still = needs.filter((n) => !n.present())
  if (still.length > 0) fail(`still missing after apt-get: ${still.map((n) => n.what).join(', ')}`)
}

// The Redis tests share one server on the default port, as on a developer's machine.
if (!(await redisAnswers(redisPort))) {
  const start = [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    `${redisPort}`,
    '--save',
    '',
    '--appendonly',
    'no',
  ]
  const shown = start.map((a) => a || '""').join(' ')
  if (checkOnly)
    fail(`no Redis answers on 127.0.0.1:${redisPort}. Start one with:\n\n  redis-server ${shown}\n`)
  console.error(`setup-test-machine: starting redis-server on 127.0.0.1:${redisPort} for the tests`)
  const r = spawnSync(find('redis-server', pathDirs) ?? 'redis-server', start, { stdio: 'inherit' })
  if (r.status !== 0) fail(`redis-server did not start (exit ${r.status ?? r.signal})`)
  const deadline = Date.now() + 5000
  while (!(await redisAnswers(redisPort))) {
    if (Date.now() > deadline) fail(`redis-server started but nothing answers on 127.0.0.1:${redisPort}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
