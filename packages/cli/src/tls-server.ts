/**
 * The HTTPS server of `switchboard serve --tls-cert FILE --tls-key FILE`, and the reload of its
 * certificate: both files are checked every `reloadInterval` ms (by stat, so a file replaced by a
 * rename — what certbot and most tools do — is seen as well as one rewritten in place), and a
 * changed pair that forms a valid context becomes the one new connections get
 * (`server.setSecureContext`); open connections keep theirs and are not dropped. A pair that does
 * not fit — the key written before the certificate, say — is kept out until both agree.
 */
import { readFileSync, type StatsListener, unwatchFile, watchFile } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server as HttpsServer } from 'node:https'
import { createSecureContext } from 'node:tls'
import type { Logger } from '@switchboard/server'
import { ConfigError } from './config/load-config.js'

export interface TlsFiles {
  cert: string
  key: string
  /** Milliseconds between checks of the files; 0: never reload. */
  reloadInterval: number
}

export interface TlsServer {
  server: HttpsServer
  /** Stops watching the files. */
  unwatch(): void
}

function readPair(files: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) }
}

/**
 * Reads the pair at start (and for `--print-config`): a missing file or a pair that does not
 * form a context is a ConfigError, which stops serve with exit code 2.
 */
export function firstPair(files: TlsFiles): { cert: Buffer; key: Buffer } {
  let pair: { cert: Buffer; key: Buffer }
  try {
    pair = readPair(files)
  } catch (err) {
    const which = err instanceof Error && 'path' in err && err.path === files.key ? 'key' : 'cert'
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err)
    throw new ConfigError('tls', [{ path: `/tls/${which}`, message: `cannot read the file (${reason})` }])
  }
  try {
    createSecureContext(pair)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new ConfigError('tls', [
      { path: '/tls', message: `the certificate and key do not form a TLS context (${reason})` },
    ])
  }
  return pair
}

/**
 * An HTTPS server with the certificate and key of `files`, answering plain requests with
 * `onRequest`, reloading the pair when it changes. Node's HTTP timeouts are those of a created
 * Switchboard server.
 */
export function createTlsServer(
  files: TlsFiles,
  options: { headersTimeout: number; requestTimeout: number },
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
): TlsServer {
  let current = firstPair(files)
  // As createSwitchboard does for its own server: check the timeouts often enough to hold them.
  const connectionsCheckingInterval = Math.max(100, Math.min(1000, options.headersTimeout / 4))
  const server = createServer({ ...current, connectionsCheckingInterval }, onRequest)
  server.headersTimeout = options.headersTimeout
  server.requestTimeout = options.requestTimeout
  if (files.reloadInterval === 0) return { server, unwatch() {} }

  const reload = () => {
    let next: { cert: Buffer; key: Buffer }
    try {
      next = readPair(files)
    } catch {
      return // mid-replacement: the next check sees the file
    }
    if (next.cert.equals(current.cert) && next.key.equals(current.key)) return
    try {
      server.setSecureContext(next)
    } catch (err) {
      // Checked again at the next change of either file.
      log.warn(
        `TLS: the new certificate and key do not fit together yet (${err instanceof Error ? err.message : err})`,
      )
      return
    }
    current = next
    log.info(`TLS: certificate reloaded from ${files.cert}`)
  }
  const onChange: StatsListener = (now, before) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) reload()
  }
  const watch = { interval: files.reloadInterval, persistent: false }
  watchFile(files.cert, watch, onChange)
  watchFile(files.key, watch, onChange)
  return {
    server,
    unwatch() {
      unwatchFile(files.cert, onChange)
      unwatchFile(files.key, onChange)
    },
  }
}
