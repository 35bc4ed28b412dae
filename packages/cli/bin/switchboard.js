#!/usr/bin/env node
// The `switchboard` command as npm links it (package.json `bin`). A committed file, so that the
// first `npm install` of a fresh clone links node_modules/.bin/switchboard: npm links a bin only
// if its file exists then, and dist/ is built after linking. It runs the built command
// (dist/bin.js), or says how to build it.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = new URL('../dist/bin.js', import.meta.url)
if (existsSync(built)) {
  await import(built.href)
} else {
  console.error(
    `switchboard: the command is not built (${fileURLToPath(built)} is missing): ` +
      'run `npm run build` in the repository',
  )
  process.exitCode = 1
}
