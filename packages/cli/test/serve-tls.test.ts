// `switchboard serve --tls-cert --tls-key`: https and wss from a certificate made here (openssl),
// verified by the clients against it, and its reload: certificate files replaced on disk are
// served to new connections while an open connection stays open and working.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { runServe, type Served, startServe } from './serve-process.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'))

interface Pair {
  cert: string
  key: string
  fingerprint: string
}

/** A self-signed P-256 certificate for localhost and 127.0.0.1, made with openssl. */
function makeCert(name: string): Pair {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  )
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 }
}

/** A wss client that trusts only `ca`; resolves once open, with the certificate the server showed. */
function open(
  url: string,
  ca: string,
): Promise<{ ws: WebSocket; fingerprint: string; hello: Promise<unknown> }> {
  const ws = new WebSocket(url, 'switchboard.v1', { ca: readFileSync(ca) })
  const hello = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))))
  let fingerprint = ''
  ws.once('upgrade', (res) => {
    const socket = res.socket as TLSSocket
    fingerprint = socket.getPeerCertificate().fingerprint256
  })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, fingerprint, hello }))
    ws.once('error', reject)
  })
}

/** GET over https trusting only `ca`: the status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca: readFileSync(ca) }, (res) => {
      let body = ''
      res.on('data', (d) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

/** Waits (5 s at most) for the server to log `text`. */
async function logged(served: Served, text: string): Promise<void> {
  const start = Date.now()
  while (!served.output().includes(text)) {
    if (Date.now() - start > 5000) throw new Error(`"${text}" not logged: ${served.output()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A request the connection must answer (a subscribe): its reply. */
function roundTrip(ws: WebSocket, id: string): Promise<{ ok: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (d: WebSocket.RawData) => {
      const f = JSON.parse(String(d))
      if (f.type === 'reply' && f.id === id) {
        ws.off('message', onMessage)
        resolve(f)
      }
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ type: 'subscribe', id, channel: `typing:${id}` }))
  })
}

describe('switchboard serve with TLS (process)', () => {
  it('serves https and wss, and reloads a replaced certificate without dropping connections', async () => {
    const first = makeCert('first')
    const second = makeCert('second')
    // The files the server is pointed at; replaced below as certbot does, by rename.
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') }
    writeFileSync(live.cert, readFileSync(first.cert))
    writeFileSync(live.key, readFileSync(first.key))
    const served = await startServe([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--tls-cert',
      live.cert,
      '--tls-key',
      live.key,
      '--tls-reload-interval',
      '100',
    ])
    try {
      expect(served.url).toBe(`wss://127.0.0.1:${served.port}/ws`)
      const base = `https://127.0.0.1:${served.port}`
      expect(await httpsGet(`${base}/healthz`, first.cert)).toEqual({ status: 200, body: 'ok\n' })
      const old = await open(served.url, first.cert)
      expect(old.fingerprint).toBe(first.fingerprint)
      expect(await old.hello).toMatchObject({ type: 'hello' })
      const closes: number[] = []
      old.ws.on('close', (code) => closes.push(code))

      // The key first, then the certificate: in between the pair does not fit, and is not loaded.
      writeFileSync(`${live.key}.new`, readFileSync(second.key))
      renameSync(`${live.key}.new`, live.key)
      await logged(served, 'do not fit together yet')
      expect(await roundTrip(old.ws, 'between')).toMatchObject({ ok: true })
      writeFileSync(`${live.cert}.new`, readFileSync(second.cert))
      renameSync(`${live.cert}.new`, live.cert)
      await logged(served, 'certificate reloaded')

      // A new connection gets the new certificate; a client that trusts only the old one is refused.
      const fresh = await open(served.url, second.cert)
      expect(fresh.fingerprint).toBe(second.fingerprint)
      expect(await fresh.hello).toMatchObject({ type: 'hello' })
      await expect(open(served.url, first.cert)).rejects.toThrow(/self-signed|certificate/)
      expect((await httpsGet(`${base}/healthz`, second.cert)).status).toBe(200)
      // The connection made before the reload is still open and still answered.
      expect(old.ws.readyState).toBe(WebSocket.OPEN)
      expect(await roundTrip(old.ws, 'before')).toMatchObject({ ok: true })
      expect(await roundTrip(fresh.ws, 'after')).toMatchObject({ ok: true })
      expect(closes).toEqual([])
      fresh.ws.close()
      const closed = new Promise<number>((resolve) => old.ws.once('close', (code) => resolve(code)))
      expect(await served.stop()).toBe(0)
      // Drained like a plain server: told to reconnect elsewhere.
      expect(await closed).toBe(1012)
    } finally {
      await served.stop()
    }
  })

  it('stops with exit code 2 when a certificate file is missing or the pair does not fit', async () => {
    const one = makeCert('one')
    const other = makeCert('other')
    const [missing, mismatched, half] = await Promise.all([
      runServe(['--port', '0', '--tls-cert', join(dir, 'absent.crt'), '--tls-key', one.key]),
      runServe(['--port', '0', '--tls-cert', one.cert, '--tls-key', other.key]),
      runServe(['--port', '0', '--tls-cert', one.cert]),
    ])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('/tls/cert: cannot read the file (ENOENT)')
    expect(mismatched.code).toBe(2)
    expect(mismatched.stderr).toContain('/tls: the certificate and key do not form a TLS context')
    expect(half.code).toBe(2)
    expect(half.stderr).toContain('/tls/key: is required')
    for (const run of [missing, mismatched, half]) expect(run.stdout).not.toContain('listening')
  })
})
