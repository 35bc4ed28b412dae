// `switchboard --help` and `switchboard <command> --help`: the built command as a real process.
// The overview lists every command; a command's help is that command's usage alone.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BENCH_USAGE, CONNECT_USAGE, TOKEN_USAGE } from '@switchboard/cli'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const commands = ['serve', 'connect', 'publish', 'revoke', 'dashboard-link', 'token', 'bench']

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[]): Promise<Run> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npx tsc -b packages/cli`)
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** The `Usage: switchboard <name>` lines in a text: which commands' help it holds. */
const usagesIn = (text: string) => [...text.matchAll(/^Usage: switchboard (\S+)/gm)].map((m) => m[1])

describe('switchboard --help (process)', () => {
  it('prints the overview with every command for --help, -h, help and no command', async () => {
    const cases = [['--help'], ['-h'], ['help'], []]
    const runs = await Promise.all(cases.map(run))
    for (const [i, args] of cases.entries()) {
      const r = runs[i]!
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(usagesIn(r.stdout), args.join(' ')).toEqual(['<command>', ...commands])
    }
  })

  it.each(commands)('prints only the help of %s for --help, -h and help <command>', async (name) => {
    const cases = [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]
    const runs = await Promise.all(cases.map(run))
    for (const [i, args] of cases.entries()) {
      const r = runs[i]!
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(usagesIn(r.stdout), args.join(' ')).toEqual([name])
      expect(r.stderr).toBe('')
    }
  })

  it('prints help instead of running: serve does not listen, token needs no secret', async () => {
    // Without --help these would listen forever (serve) or fail (token has no --secret).
    const [serve, token] = await Promise.all([
      run(['serve', '--port', '0', '--help']),
      run(['token', '--sub', 'alice', '-h']),
    ])
    expect(serve.code).toBe(0)
    expect(serve.stdout).not.toMatch(/listening/)
    expect(token.code).toBe(0)
    expect(token.stdout.trim()).toBe(TOKEN_USAGE)
  })

  it("follows a mistake in a command's options with that command's usage, and an unknown command with the overview", async () => {
    const [token, connect, bench] = await Promise.all([
      run(['token', '--sub', 'alice']),
      run(['connect']),
      run(['bench', '--clients', '0']),
    ])
    expect(token.code).toBe(2)
    expect(token.stderr).toContain('--secret (or JWT_SECRET) is required')
    expect(usagesIn(token.stderr)).toEqual(['token'])
    expect(connect.code).toBe(2)
    expect(connect.stderr).toContain(CONNECT_USAGE)
    expect(usagesIn(connect.stderr)).toEqual(['connect'])
    expect(bench.code).toBe(2)
    expect(bench.stderr).toContain(BENCH_USAGE)
    const cases = [['nope'], ['help', 'nope'], ['toString', '--help']]
    const runs = await Promise.all(cases.map(run))
    for (const [i, args] of cases.entries()) {
      const r = runs[i]!
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/unknown command "(nope|toString)"/)
      expect(usagesIn(r.stderr)).toEqual(['<command>', ...commands])
    }
  })
})
