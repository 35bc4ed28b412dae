/**
 * SwitchboardProvider and useSwitchboard: the client every hook below the provider uses. Given a
 * `client`, the provider only passes it down (its owner connects and closes it). Given a `url`,
 * it creates one client for its whole life, connects it when it mounts and closes it when it
 * really unmounts; the client is created with `autoConnect: false` and connected under a Lease,
 * so StrictMode's double render and double effect open exactly one WebSocket.
 */
import { SwitchboardClient, type SwitchboardClientOptions, type UntypedEventMap } from '@switchboard/client'
import type { EventMap } from '@switchboard/protocol'
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react'
import { Lease } from './lease.js'

type AnyClient = SwitchboardClient<UntypedEventMap>

const SwitchboardContext = createContext<AnyClient | null>(null)

interface ProviderBase {
  children?: ReactNode
}

export interface ProviderWithClient<M extends EventMap> extends ProviderBase {
  /** A client you own: the provider neither connects nor closes it. */
  client: SwitchboardClient<M>
  url?: never
  options?: never
}

export interface ProviderWithUrl extends ProviderBase {
  /**
   * The server's WebSocket URL (or several, tried in turn). Read once: to connect elsewhere,
   * remount the provider (give it a `key`).
   */
  url: string | readonly string[]
  /** Client options, read once. `autoConnect` is ignored: the provider connects on mount. */
  options?: SwitchboardClientOptions
  client?: never
}

export type SwitchboardProviderProps<M extends EventMap = UntypedEventMap> =
  | ProviderWithClient<M>
  | ProviderWithUrl

interface Owned {
  client: AnyClient
  lease: Lease
}

export function SwitchboardProvider<M extends EventMap = UntypedEventMap>(
  props: SwitchboardProviderProps<M>,
): ReactNode {
  const given = props.client as unknown as AnyClient | undefined
  // Created once, without a socket: a StrictMode double call of this initializer costs nothing.
  const [owned] = useState<Owned | undefined>(() => {
    if (given || props.url === undefined) return undefined
    const client = new SwitchboardClient(props.url, { ...props.options, autoConnect: false }) as AnyClient
    return {
      client,
      lease: new Lease(
        () => client.connect(),
        () => client.close(),
      ),
    }
  })
  useEffect(() => owned?.lease.acquire(), [owned])
  const client = given ?? owned?.client
  if (!client) throw new TypeError('SwitchboardProvider needs a `client` or a `url`')
  return <SwitchboardContext.Provider value={client}>{props.children}</SwitchboardContext.Provider>
}

/** The provider's client. Throws outside a SwitchboardProvider. */
export function useSwitchboard<M extends EventMap = UntypedEventMap>(): SwitchboardClient<M> {
  const client = useContext(SwitchboardContext)
  if (!client) throw new Error('useSwitchboard: no <SwitchboardProvider> above this component')
  return client as unknown as SwitchboardClient<M>
}
