#!/usr/bin/env node
// Builds the Switchboard server of another commit as one module, to measure it side by side with
// this tree (the presence group's "before": PRESENCE_BASELINE=<module> node bench/run.mjs …).
// The commit's packages/ are exported with `git archive` into a temporary directory — the working
// tree is not touched — and bundled with esbuild as bench/servers/switchboard.mjs bundles this
// tree; the module lands in bench/.build/ so its external packages resolve from this checkout.
//
//   node bench/baseline.mjs <commit-ish>      prints the module's path
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const ref = process.argv[2]
if (!ref) {
  console.error('usage: node bench/baseline.mjs <commit-ish>')
  process.exit(2)
}
const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: here, encoding: 'utf8' }).trim()
const tmp = mkdtempSync(join(tmpdir(), 'sb-baseline-'))
try {
  const archive = execFileSync('git', ['archive', sha, 'packages'], {
    cwd: join(here, '..'),
    maxBuffer: 1 << 30,
  })
  execFileSync('tar', ['-x', '-C', tmp], { input: archive })
  const src = join(tmp, 'packages')
  const outfile = join(here, '.build', `switchboard-${sha}.mjs`)
  mkdirSync(dirname(outfile), { recursive: true })
  const { build } = await import('esbuild')
  await build({
    entryPoints: [join(src, 'server/src/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    alias: {
      '@switchboard/protocol/msgpack': join(src, 'protocol/src/msgpack-codec.ts'),
      '@switchboard/protocol': join(src, 'protocol/src/index.ts'),
      '@switchboard/broker': join(src, 'broker/src/index.ts'),
    },
    logLevel: 'error',
  })
  console.log(outfile)
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
