// The root postinstall: React 18 for the hooks' second test run (installed apart from the
// workspaces, see vitest.config.ts), then the `switchboard` command built so the bin npm linked
// works at once. Each step is skipped when its inputs are absent — a container build installs
// from the manifests alone, before any source is copied in.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' })

if (existsSync('packages/react/test/react18/package-lock.json')) {
  run(npm, ['ci', '--prefix', 'packages/react/test/react18', '--no-audit', '--no-fund', '--loglevel=error'])
}
if (existsSync('packages/cli/src') && existsSync('tsconfig.base.json')) {
  run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/cli'])
}
