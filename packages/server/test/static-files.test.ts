// serveStatic serves its root and nothing else: `..` (plain or encoded) and symbolic links that
// lead outside the root are 404, while a link that stays inside is followed.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serveStatic } from '@switchboard/server/static'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const base = mkdtempSync(join(tmpdir(), 'sb-static-'))
const root = join(base, 'root')
let server: Server
let port: number

beforeAll(async () => {
  mkdirSync(join(root, 'app'), { recursive: true })
  writeFileSync(join(root, 'index.html'), '<p>home</p>')
  writeFileSync(join(root, 'app', 'index.html'), '<p>app</p>')
  writeFileSync(join(base, 'secret.txt'), 'outside the root')
  symlinkSync('/etc/passwd', join(root, 'passwd'))
  symlinkSync(join(base, 'secret.txt'), join(root, 'secret.txt'))
  symlinkSync(base, join(root, 'up'))
  symlinkSync(join(root, 'app', 'index.html'), join(root, 'alias.html'))
  server = createServer(serveStatic(root))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => {
  server.close()
  rmSync(base, { recursive: true, force: true })
})

/** A GET of `path` exactly as written (fetch would normalise `%2e%2e` away before sending). */
const get = (path: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
      .on('error', reject)
      .end()
  })

describe('serveStatic', () => {
  it('serves files and directory indexes inside the root', async () => {
    expect(await get('/')).toEqual({ status: 200, text: '<p>home</p>' })
    expect(await get('/app/')).toEqual({ status: 200, text: '<p>app</p>' })
    expect(await get('/alias.html')).toEqual({ status: 200, text: '<p>app</p>' })
  })

  it('answers 404 for symbolic links that lead outside the root', async () => {
    expect((await get('/passwd')).status).toBe(404)
    expect((await get('/secret.txt')).status).toBe(404)
    expect((await get('/up/secret.txt')).status).toBe(404)
  })

  it('answers 404 for .. escapes, plain or encoded', async () => {
    expect((await get('/%2e%2e/secret.txt')).status).toBe(404)
    expect((await get('/app/%2e%2e/%2e%2e/secret.txt')).status).toBe(404)
    expect((await get('/../secret.txt')).status).toBe(404)
    expect((await get('/app/%2e%2e/index.html')).text).toBe('<p>home</p>')
  })
})
