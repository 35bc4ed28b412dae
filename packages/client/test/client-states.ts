/** Waiting for a SwitchboardClient to reach a connection state, for the tests with a real server. */
import type { ConnectionState, EventMap, SwitchboardClient } from '@switchboard/client'

/** Resolves once `client` is in `state` (at once if it already is). */
export function until<M extends EventMap>(
  client: SwitchboardClient<M>,
  state: ConnectionState,
): Promise<void> {
  if (client.state === state) return Promise.resolve()
  return new Promise((resolve) => {
    const off = client.on('state', (s) => {
      if (s.newState === state) {
        off()
        resolve()
      }
    })
  })
}
