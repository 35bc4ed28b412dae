// packages/cli/bin/switchboard.js, what package.json's `bin` names: a committed file (so npm links
// node_modules/.bin/switchboard on the first install, before dist/ is built) that runs the built
// command, or says how to build it.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const launcher = join(pkgDir, 'bin/switchboard.js')

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

describe('bin/switchboard.js', () => {
  it("is package.json's bin: an executable node script in the repository, not in dist/", () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      bin: Record<string, string>
      files: string[]
    }
    expect(pkg.bin).toEqual({ switchboard: './bin/switchboard.js' })
    expect(pkg.files).toContain('bin')
    expect(readFileSync(launcher, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
    expect(statSync(launcher).mode & 0o111).not.toBe(0)
  })

  it('runs the built command with its arguments', async () => {
    const r = await run(launcher, ['token', '--help'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Usage: switchboard token /)
  })

  it('says to build when dist/ is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-launcher-'))
    try {
      mkdirSync(join(dir, 'bin'))
      copyFileSync(launcher, join(dir, 'bin/switchboard.js'))
      const r = await run(join(dir, 'bin/switchboard.js'), ['--help'])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain(`${join(dir, 'dist/bin.js')} is missing`)
      expect(r.stderr).toContain('npm run build')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
