/**
 * The server and clients of one contract test: a real server with the contract's channels and
 * limits, and clients of the transport under test (or of its peer) that are dropped after the test.
 */
import type { SwitchboardOptions } from '@switchboard/server'
import type { CloseInfo } from '../frame-log.js'
import { serverFixture } from '../server-fixture.js'
import type { ClientFactory, ContractClient } from './contract-client.js'

/** Limits the hello must announce: not the defaults, so they are seen to come from the options. */
export const CONTRACT_LIMITS = { maxPayload: 48 * 1024, maxSubscriptions: 17, heartbeat: 20_000 }

const CONTRACT_OPTIONS: SwitchboardOptions = {
  ...CONTRACT_LIMITS,
  channels: {
    // Clients may publish here; the server alone on `news:*`. Both keep history for recovery.
    'open:*': { clientPublish: true, history: 100 },
    'news:*': { history: 100 },
  },
}

export function contractFixture(makeClient: ClientFactory, peer: ClientFactory) {
  const { setup, onCleanup } = serverFixture(CONTRACT_OPTIONS)
  async function start(options: SwitchboardOptions = {}) {
    const server = await setup(options)
    const track = async (factory: ClientFactory): Promise<ContractClient> => {
      const client = await factory(server.url)
      onCleanup(() => client.dispose())
      return client
    }
    return {
      ...server,
      /** A client on the transport under test. */
      client: () => track(makeClient),
      /** A client on the peer transport. */
      peer: () => track(peer),
    }
  }
  return { start, onCleanup }
}

/** `closed`, failing after `ms` rather than waiting for the test's timeout. */
export function closedWithin(client: ContractClient, ms = 5000): Promise<CloseInfo> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no close within ${ms} ms`)), ms)
  })
  return Promise.race([client.closed, timeout]).finally(() => clearTimeout(timer))
}
