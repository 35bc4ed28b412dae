#!/usr/bin/env node
// Builds the chat app (`vite build` in apps/chat) unless apps/chat/dist was built from exactly the
// inputs there are now, so `npm start` and `npm run build` do not redo a build that is already
// there. "The same inputs" is a SHA-256 over the contents of everything the build reads, kept in
// node_modules/.cache (not in dist/, which `switchboard serve` publishes): contents rather than
// mtimes, so a checkout, a copy or a clock that moved cannot make a stale build look fresh.
// `--force` builds regardless.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stampFile = join(root, 'node_modules/.cache/switchboard/chat-build.sha256')
const output = join(root, 'apps/chat/dist/index.html')

// What the build reads: the app, the workspace sources its Vite config aliases (all of
// packages/*/src, so a new alias cannot be missed), the compiler settings and the locked versions.
const inputs = [
  'apps/chat/index.html',
  'apps/chat/package.json',
  'apps/chat/tsconfig.json',
  'apps/chat/vite.config.ts',
  'apps/chat/src',
  'apps/chat/public',
  'packages',
  'tsconfig.base.json',
  'package-lock.json',
]

/** The files an input names: itself, or every file under it (in packages/, each package's src/). */
function files(path) {
  const full = join(root, path)
  if (!existsSync(full)) return []
  if (!statSync(full).isDirectory()) return [path]
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((f) => !f.startsWith('packages/') || /^packages\/[^/]+\/src\//.test(f))
    .filter((f) => !f.split(sep).includes('node_modules'))
    .sort()
}

function inputsHash() {
  const hash = createHash('sha256')
  for (const file of inputs.flatMap(files)) {
    hash.update(`${file}\0`)
    hash.update(readFileSync(join(root, file)))
    hash.update('\0')
  }
  return hash.digest('hex')
}

const force = process.argv.includes('--force')
const hash = inputsHash()
const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : ''
if (!force && stamp === hash && existsSync(output)) {
  console.log('chat app: apps/chat/dist is up to date, not rebuilt (npm run build:chat -- --force rebuilds)')
  process.exit(0)
}

// npm runs this script with npm_execpath set: use that npm, not whichever is first on PATH.
const npm = process.env.npm_execpath
const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []]
const build = spawnSync(cmd, [...args, 'run', 'build', '--workspace', '@switchboard/chat'], {
  cwd: root,
  stdio: 'inherit',
})
if (build.status !== 0) process.exit(build.status ?? 1)
mkdirSync(dirname(stampFile), { recursive: true })
writeFileSync(stampFile, `${hash}\n`)
