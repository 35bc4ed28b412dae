// `switchboard serve --dashboard` and `switchboard dashboard-link` as real processes: the dashboard
// needs the api section (exit 2 otherwise); it is served at /dashboard/ on the API's own port (and
// 404 on the main one), with headers that keep it from being framed; a link's token opens a session
// of the access asked, and the flags are checked.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import { dashboardLink, dashboardLinkConfig } from '../src/dashboard-link.js'
import { bin, runServe, startServe } from './serve-process.js'

const KEY = 'cli-dashboard-key-0123456789'
const READ = 'cli-dashboard-reader-0123456'
const PUBLISH = 'cli-dashboard-publisher-012345'

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    )
  })
}

describe('switchboard serve --dashboard', () => {
  it('needs the api section: a clear error and exit code 2', async () => {
    const r = await runServe(['--dashboard', '--port', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('/dashboard: needs the api section')
    const env = await runServe(['--port', '0'], { SWITCHBOARD_DASHBOARD: 'true' })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('/dashboard: needs the api section')
  })

  it('serves the dashboard on the API port, and a link opens a session there', async () => {
    const apiPort = await freePort()
    const served = await startServe(
      ['--dashboard', '--port', '0', '--host', '127.0.0.1', '--api-port', String(apiPort)],
      {
        SWITCHBOARD_API_KEYS: KEY,
      },
    )
    try {
      expect(served.output()).toContain(`dashboard at http://127.0.0.1:${apiPort}/dashboard/`)
      const base = `http://127.0.0.1:${apiPort}`
      const moved = await fetch(`${base}/dashboard`, { redirect: 'manual' })
      expect(moved.status).toBe(301)
      expect(moved.headers.get('location')).toBe('/dashboard/')
      const page = await fetch(`${base}/dashboard/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<div id="root">')
      expect(page.headers.get('x-frame-options')).toBe('DENY')
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect((await fetch(`${base}/other`)).status).toBe(404)
      // Not on the main port: the API (and so the dashboard) is on its own.
      expect((await fetch(`http://127.0.0.1:${served.port}/dashboard/`)).status).toBe(404)

      const link = await run(['dashboard-link', '--api', base, '--read-only', '--ttl', '60'], {
        SWITCHBOARD_API_KEY: KEY,
      })
      expect(link.code, link.stderr).toBe(0)
      const url = new URL(link.stdout.trim())
      expect(`${url.origin}${url.pathname}`).toBe(`${base}/dashboard/`)
      const token = url.hash.replace('#link=', '')
      const session = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(session.status).toBe(200)
      expect(await session.json()).toMatchObject({ access: 'read' })
    } finally {
      await served.stop()
    }
  })

  it('a link from a read-only key is a read-only one (said on stderr); a publish-only key gets none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-dash-'))
    const file = join(dir, 'switchboard.json')
    writeFileSync(
      file,
      JSON.stringify({
        dashboard: true,
        api: { keys: [{ key: KEY }, { key: READ, readOnly: true }, { key: PUBLISH, publishOnly: true }] },
      }),
    )
    const served = await startServe(['--config', file, '--port', '0', '--host', '127.0.0.1'])
    try {
      const base = `http://127.0.0.1:${served.port}`
      const link = await run(['dashboard-link', '--api', base], { SWITCHBOARD_API_KEY: READ })
      expect(link.code, link.stderr).toBe(0)
      expect(link.stderr).toContain('this key is read-only: the link opens a read-only session')
      expect(link.stdout).toMatch(/#link=sbt1\.link\.read\./)
      const publishOnly = await run(['dashboard-link', '--api', base], { SWITCHBOARD_API_KEY: PUBLISH })
      expect(publishOnly.code).toBe(1)
      expect(publishOnly.stderr).toContain('a publish-only key cannot open the dashboard')
      expect(publishOnly.stdout).toBe('')
    } finally {
      await served.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('switchboard dashboard-link', () => {
  it('takes the key from --key or SWITCHBOARD_API_KEY, checks --ttl, and signs what was asked', () => {
    expect(() => dashboardLinkConfig([], {})).toThrow('--key (or SWITCHBOARD_API_KEY) is required')
    expect(() => dashboardLinkConfig(['--ttl', '0'], { SWITCHBOARD_API_KEY: KEY })).toThrow(/--ttl must be/)
    expect(() => dashboardLinkConfig(['--ttl', 'soon'], { SWITCHBOARD_API_KEY: KEY })).toThrow(
      /--ttl must be/,
    )
    const config = dashboardLinkConfig(['--api', 'http://10.0.0.5:9101/api'], { SWITCHBOARD_API_KEY: KEY })
    expect(config).toEqual({
      api: 'http://10.0.0.5:9101/api',
      dashboard: 'http://10.0.0.5:9101/dashboard/',
      key: KEY,
      ttlSeconds: 600,
      readOnly: false,
    })
    const link = dashboardLink(config, 1_000_000)
    expect(link).toMatch(
      /^http:\/\/10\.0\.0\.5:9101\/dashboard\/#link=sbt1\.link\.full\.1600\.[\w-]+\.[\w-]+$/,
    )
    expect(link).not.toContain(KEY)
  })
})
