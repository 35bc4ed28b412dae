/**
 * A real Switchboard server for tests: `startServer` on 127.0.0.1, port 0, quiet; and
 * `serverFixture`, a per-file fixture that starts servers and recording clients and tears all of
 * it down after each test.
 */
import { createSwitchboard, type Switchboard, type SwitchboardOptions } from '@switchboard/server'
import { afterEach } from 'vitest'
import { connect } from './recording-socket.js'

export async function startServer<O extends SwitchboardOptions>(options: O = {} as O) {
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, ...options })
  const address = await sb.ready
  return { sb: sb as Switchboard, ...address }
}

/** What `startServer` resolves with: the server and its address. */
export type TestServer = Awaited<ReturnType<typeof startServer>>

/**
 * A per-file fixture: `setup(options)` starts a server with the file's defaults and hands out
 * connected clients (`client(query?)`); everything it started — and whatever `onCleanup` was
 * given — is torn down after each test, newest first.
 */
export function serverFixture(defaults: SwitchboardOptions = {}) {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const onCleanup = (cleanup: () => unknown): void => {
    cleanups.push(cleanup)
  }
  async function setup(options: SwitchboardOptions = {}) {
    const server = await startServer({ ...defaults, ...options })
    onCleanup(() => server.sb.close({ timeout: 300 }))
    const client = async (query = '') => {
      const c = await connect(`${server.url}${query}`)
      onCleanup(() => c.ws.terminate())
      return c
    }
    return { ...server, client }
  }
  return { setup, onCleanup }
}
