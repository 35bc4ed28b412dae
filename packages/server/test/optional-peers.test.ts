// `@switchboard/server` must load and serve in a project that has neither jose nor prom-client
// (they are optional peers, used only by the /jwt and /metrics subpaths). The built packages are
// copied — not linked, since Node would resolve a link's imports from the monorepo's own
// node_modules — into a throw-away project with only `ws` beside them, and a real process starts
// a server there, connects, and closes it.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const project = mkdtempSync(join(tmpdir(), 'sb-optional-peers-'))
afterAll(() => rmSync(project, { recursive: true, force: true }))

function install(from: string, name: string): void {
  const to = join(project, 'node_modules', name)
  mkdirSync(dirname(to), { recursive: true })
  cpSync(from, to, {
    recursive: true,
    filter: (src) => !src.includes(`${from}/node_modules`) && !src.includes('/src'),
  })
}

describe('optional peers', () => {
  it('imports and runs @switchboard/server without jose and prom-client', async () => {
    for (const pkg of ['protocol', 'broker', 'server'])
      install(join(root, 'packages', pkg), `@switchboard/${pkg}`)
    install(join(root, 'node_modules/ws'), 'ws')
    install(join(root, 'node_modules/@msgpack/msgpack'), '@msgpack/msgpack')
    // The server's own dependencies (ajv: the HTTP API's and the proxy hooks' checks; typebox: the
    // HTTP API's schemas), installed as an install brings them.
    for (const dep of [
      'ajv',
      'fast-deep-equal',
      'fast-uri',
      'json-schema-traverse',
      'require-from-string',
      '@sinclair/typebox',
    ]) {
      install(join(root, 'node_modules', dep), dep)
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }))
    writeFileSync(
      join(project, 'main.mjs'),
      `import { createSwitchboard } from '@switchboard/server'
import WebSocket from 'ws'
const missing = []
for (const peer of ['jose', 'prom-client']) {
  try { await import(peer); } catch (err) { if (err.code === 'ERR_MODULE_NOT_FOUND') missing.push(peer) }
}
let jwt = 'loaded'
try { await import('@switchboard/server/jwt') } catch (err) { jwt = err.code }
const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, httpApi: { keys: [{ key: 'k'.repeat(16) }] } })
const { url } = await sb.ready
const ws = new WebSocket(url, 'switchboard.v1')
const hello = await new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
ws.close()
const info = await fetch(url.replace('ws://', 'http://').slice(0, -3) + '/api/info', {
  method: 'POST', headers: { authorization: 'Bearer ' + 'k'.repeat(16) },
})
await sb.close()
console.log(JSON.stringify({ missing, jwt, hello: hello.type, api: info.status }))
`,
    )
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: project, timeout: 15_000 })
    expect(JSON.parse(stdout)).toEqual({
      missing: ['jose', 'prom-client'],
      jwt: 'ERR_MODULE_NOT_FOUND',
      hello: 'hello',
      api: 200,
    })
  })
})
