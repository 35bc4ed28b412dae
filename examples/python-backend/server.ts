/**
 * Switchboard in front of the Python backend of backend.py: every connection and every
 * subscription to `room:*`, `admin:*` and `user:*` is decided by the backend over HTTP (the
 * `proxy` option, docs/proxy.md); the session cookie `sid` (or a bearer token) is what the
 * backend reads. Run the backend, build (`npm run build`), then
 * `BACKEND=http://127.0.0.1:9000 SECRET=change-me node examples/dist/python-backend/server.js`.
 */
import { pathToFileURL } from 'node:url'
import { createSwitchboard, type ProxyHook, type SwitchboardOptions } from '@switchboard/server'

export function createProxiedServer(backend: string, secret: string, options: SwitchboardOptions = {}) {
  const hook = (path: string): ProxyHook => ({
    url: `${backend}${path}`,
    timeout: 2000,
    maxConcurrency: 32,
    headers: { 'x-switchboard-secret': secret },
  })
  return createSwitchboard({
    channels: { 'room:*': { presence: true, history: 100 } },
    ...options,
    proxy: {
      connect: { ...hook('/switchboard/connect'), forwardCookies: ['sid'] },
      subscribe: {
        'room:*': hook('/switchboard/subscribe'),
        'admin:*': hook('/switchboard/subscribe'),
        'user:*': hook('/switchboard/subscribe'),
      },
    },
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sb = createProxiedServer(process.env.BACKEND ?? 'http://127.0.0.1:9000', process.env.SECRET ?? '')
  sb.ready.then(({ url }) => console.log(`switchboard on ${url}, decisions from ${process.env.BACKEND}`))
}
