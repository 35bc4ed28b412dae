// deploy/systemd/switchboard.service: systemd's own verifier, the settings a graceful stop depends
// on, and its ExecStart run for real (the unit's paths mapped to this checkout) and stopped with
// the signal systemd would send.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  deployDir,
  findBinary,
  kill,
  listening,
  type Proc,
  repoRoot,
  requireBuiltCli,
  start,
} from './support.js'
import {
  expandCommand,
  parseEnvFile,
  parseEnvironment,
  parseUnit,
  setting,
  splitWords,
  timeSpan,
} from './unit-file.js'

const UNIT_PATH = join(deployDir, 'systemd/switchboard.service')
const ENV_PATH = join(deployDir, 'systemd/switchboard.env')
/** Where the unit expects the built repository, and the node it runs. */
const INSTALL_DIR = '/opt/switchboard'
const NODE = '/usr/bin/node'
/** The server's default `closeTimeout`: how long a last close handshake may take after the drain. */
const CLOSE_TIMEOUT_S = 5

const text = readFileSync(UNIT_PATH, 'utf8')
const unit = parseUnit(text)
const service = (key: string) => setting(unit, 'Service', key)

/** The unit as installed at this checkout: its paths point here, and at this node binary. */
const local = (s: string) =>
  s.replaceAll(INSTALL_DIR, repoRoot.replace(/\/$/, '')).replaceAll(NODE, process.execPath)

const procs: Proc[] = []
afterEach(async () => {
  for (const p of procs.splice(0)) await kill(p)
})

describe('deploy/systemd/switchboard.service', () => {
  it('lets the node drain before systemd would SIGKILL it', () => {
    expect(service('KillSignal')).toBe('SIGTERM')
    const argv = splitWords(service('ExecStart') ?? '')
    const drainFlag = argv.indexOf('--drain-timeout')
    expect(drainFlag, 'ExecStart should set --drain-timeout explicitly').toBeGreaterThan(0)
    const drainSeconds = Number(argv[drainFlag + 1]) / 1000
    expect(drainSeconds).toBeGreaterThan(0)
    const stopSeconds = timeSpan(service('TimeoutStopSec') ?? '')
    expect(stopSeconds).toBeGreaterThanOrEqual(drainSeconds + CLOSE_TIMEOUT_S)
  })

  it('restarts on failure, raises the file limit, reads an env file, and is hardened', () => {
    expect(['always', 'on-failure', 'on-abnormal']).toContain(service('Restart'))
    expect(Number(service('LimitNOFILE'))).toBeGreaterThanOrEqual(65_536)
    expect(service('EnvironmentFile')).toMatch(/^-?\/etc\/switchboard\/switchboard\.env$/)
    // Never root: a dynamic user, or a named one.
    expect(service('DynamicUser') === 'yes' || (service('User') ?? 'root') !== 'root').toBe(true)
    expect(service('NoNewPrivileges')).toBe('yes')
    expect(service('ProtectSystem')).toBe('strict')
    expect(service('ProtectHome')).toBe('yes')
    expect(service('PrivateTmp')).toBe('yes')
    expect(service('CapabilityBoundingSet')).toBe('')
    // V8 needs writable-executable memory for its JIT: this setting would crash node at start.
    expect(service('MemoryDenyWriteExecute') ?? 'no').toBe('no')
    expect(setting(unit, 'Install', 'WantedBy')).toBe('multi-user.target')
  })

  it('passes systemd-analyze verify', async () => {
    const analyze = findBinary('systemd-analyze')
    if (!analyze)
      throw new Error('systemd-analyze is missing: `apt-get install -y systemd` (.ci/run installs it)')
    requireBuiltCli()
    const dir = mkdtempSync(join(tmpdir(), 'sb-systemd-'))
    try {
      writeFileSync(join(dir, 'switchboard.service'), local(text))
      const verify = start(analyze, ['verify', join(dir, 'switchboard.service')])
      procs.push(verify)
      const code = await verify.exited
      // verify exits 0 even for settings it ignores; anything it prints about this unit is a defect.
      const about = verify
        .output()
        .split('\n')
        .filter((l) => l.includes('switchboard'))
      expect({ code, about }).toEqual({ code: 0, about: [] })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs its ExecStart with the example env file; SIGTERM drains (clients get 1012) and exits 0', async () => {
    requireBuiltCli()
    const env: Record<string, string> = {
      ...parseEnvironment(unit.get('Service')?.get('Environment') ?? []),
      ...parseEnvFile(readFileSync(ENV_PATH, 'utf8')),
      PORT: '0', // the only change: a free port instead of the example's 8080
    }
    const [command, ...args] = expandCommand(local(service('ExecStart') ?? ''), env)
    expect(command).toBe(process.execPath)
    const proc = start(command!, args, { ...process.env, ...env })
    procs.push(proc)
    const node = await listening(proc)
    // SWITCHBOARD_OPTS from the env file reached the command line: loopback only.
    expect(node.url).toBe(`ws://127.0.0.1:${node.port}/ws`)
    expect((await fetch(`http://127.0.0.1:${node.port}/healthz`)).status).toBe(200)

    const ws = new WebSocket(node.url, 'switchboard.v1')
    const hello = new Promise((resolve) => ws.once('message', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.on('error', () => {})
    await hello
    proc.child.kill(service('KillSignal') as NodeJS.Signals)
    expect(await closed).toBe(1012)
    expect(await proc.exited).toBe(0)
    expect(proc.output()).toMatch(/SIGTERM: draining 1 connection\(s\)[\s\S]*switchboard stopped/)
  })
})
