#!/usr/bin/env node
// Builds the browser apps — the chat app (apps/chat) and the operations dashboard (apps/dashboard),
// `vite build` in each — unless an app's dist/ was built from exactly the inputs there are now, so
// `npm start` and `npm run build` do not redo a build that is already there. "The same inputs" is
// a SHA-256 over the contents of everything the build reads, kept in node_modules/.cache (not in
// dist/, which `switchboard serve` publishes): contents rather than mtimes, so a checkout, a copy
// or a clock that moved cannot make a stale build look fresh. `--force` builds regardless; app
// names as arguments (`chat`, `dashboard`) build those only.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const APPS = ['chat', 'dashboard']

// What an app's build reads: the app, the workspace sources its Vite config aliases or its types
// come from (all of packages/*/src, so a new alias cannot be missed), the compiler settings and
// the locked versions.
const inputsOf = (app) => [
  `apps/${app}/index.html`,
  `apps/${app}/package.json`,
  `apps/${app}/tsconfig.json`,
  `apps/${app}/vite.config.ts`,
  `apps/${app}/src`,
  `apps/${app}/public`,
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

function inputsHash(app) {
  const hash = createHash('sha256')
  for (const file of inputsOf(app).flatMap(files)) {
    hash.update(`${file}\0`)
    hash.update(readFileSync(join(root, file)))
    hash.update('\0')
  }
  return hash.digest('hex')
}

const force = process.argv.includes('--force')
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const unknown = named.filter((a) => !APPS.includes(a))
if (unknown.length > 0) {
  console.error(`build-apps: no app ${unknown.join(', ')} (apps: ${APPS.join(', ')})`)
  process.exit(2)
}
// npm runs this script with npm_execpath set: use that npm, not whichever is first on PATH.
const npm = process.env.npm_execpath
const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []]

for (const app of named.length > 0 ? named : APPS) {
  const stampFile = join(root, `node_modules/.cache/switchboard/${app}-build.sha256`)
  const output = join(root, `apps/${app}/dist/index.html`)
  const hash = inputsHash(app)
  const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : ''
  if (!force && stamp === hash && existsSync(output)) {
    console.log(
      `${app} app: apps/${app}/dist is up to date, not rebuilt (npm run build:apps -- --force rebuilds)`,
    )
    continue
  }
  const build = spawnSync(cmd, [...args, 'run', 'build', '--workspace', `@switchboard/${app}`], {
    cwd: root,
    stdio: 'inherit',
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
  mkdirSync(dirname(stampFile), { recursive: true })
  writeFileSync(stampFile, `${hash}\n`)
}
