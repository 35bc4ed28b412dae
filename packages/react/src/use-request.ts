/**
 * useRequest: the provider's `client.request`, bound, with an identity that changes only with the
 * client, so it can sit in effect and callback dependency lists.
 */
import type { SwitchboardClient, UntypedEventMap } from '@switchboard/client'
import type { EventMap } from '@switchboard/protocol'
import { useMemo } from 'react'
import { useSwitchboard } from './provider.js'

export type RequestFunction<M extends EventMap> = SwitchboardClient<M>['request']

/** `request(event, data, options?)`: resolves with the handler's reply, rejects with a SwitchboardError. */
export function useRequest<M extends EventMap = UntypedEventMap>(): RequestFunction<M> {
  const client = useSwitchboard<M>()
  return useMemo(() => client.request.bind(client) as RequestFunction<M>, [client])
}
