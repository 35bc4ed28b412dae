/**
 * useChannel, usePresence and usePresenceCounts: a channel subscription held for as long as a component is mounted.
 * Both go through the shared ChannelHandle of (client, name): several components on one channel
 * make one subscription, a name change moves the subscription, and the last unmount ends it.
 * Callbacks are read from a ref, so passing a new arrow function each render never resubscribes.
 */
import type {
  ChannelMessage,
  ChannelState,
  PresenceCounts,
  PresenceUser,
  PublishOptions,
  PublishResult,
  RecoveryInfo,
  SubscribeResult,
  SwitchboardClient,
  SwitchboardError,
  UntypedEventMap,
} from '@switchboard/client'
import type { ChannelData, ChannelName, EventMap } from '@switchboard/protocol'
import { useCallback, useEffect, useSyncExternalStore } from 'react'
import { channelHandle } from './channel-handle.js'
import { useLatest } from './latest.js'
import { useSwitchboard } from './provider.js'

export interface UseChannelOptions {
  /** Each (re)subscribe's reply: the channel's position, and `members` on presence channels. */
  onSubscribed?: (result: SubscribeResult) => void
  /** After a resubscribe that asked to resume: `recovered: false` means messages were missed. */
  onRecovery?: (info: RecoveryInfo) => void
  /** A refused subscribe (then the channel stays unsubscribed) or a subscribe timeout. */
  onError?: (error: SwitchboardError) => void
}

export interface UseChannelResult<T> {
  /** 'unsubscribed' | 'subscribing' | 'subscribed'. */
  state: ChannelState
  /** Publishes to this channel; resolves once the server accepted it (works before subscribing). */
  publish: (data: T, options?: PublishOptions) => Promise<PublishResult>
}

/**
 * Subscribes to `name` while mounted. `onMessage(data, meta)` gets each message once, in order,
 * across reconnects; `meta` carries its epoch and offset.
 */
export function useChannel<
  M extends EventMap = UntypedEventMap,
  N extends ChannelName<M> = ChannelName<M>,
  T = ChannelData<M, N>,
>(
  name: N,
  onMessage?: (data: T, meta: ChannelMessage<T>) => void,
  options: UseChannelOptions = {},
): UseChannelResult<T> {
  const client = useSwitchboard<M>()
  const handle = channelHandle(client as unknown as SwitchboardClient, name)
  const callbacks = useLatest({ onMessage, ...options })

  useEffect(() => {
    const release = handle.acquire()
    const offs = [
      handle.on('publication', (message) => {
        callbacks.current.onMessage?.(message.data as T, message as ChannelMessage<T>)
      }),
      handle.on('subscribed', (result) => callbacks.current.onSubscribed?.(result)),
      handle.on('recovery', (info) => callbacks.current.onRecovery?.(info)),
      handle.on('error', (error) => callbacks.current.onError?.(error)),
    ]
    return () => {
      for (const off of offs) off()
      release()
    }
  }, [handle, callbacks])

  const state = useSyncExternalStore(handle.subscribeState, handle.getState, handle.getState)
  const publish = useCallback(
    (data: T, publishOptions?: PublishOptions) =>
      client.publish(name, data as ChannelData<M, N>, publishOptions),
    [client, name],
  )
  return { state, publish }
}

/**
 * Who is on the presence channel `name`: one PresenceUser (`{ userId, info?, connections }`) per
 * user, in join order, from the subscribe reply and then the coalesced presence frames (joins,
 * leaves, info updates). The array is frozen and keeps its identity until the membership changes;
 * it is empty until the first subscribe reply, on channels without presence or with
 * `presence: 'counts'`, and after the hook's last unmount. While reconnecting it keeps the last
 * known list; the resubscribe replaces it.
 */
export function usePresence(name: string): readonly PresenceUser[] {
  const client = useSwitchboard()
  const handle = channelHandle(client as unknown as SwitchboardClient, name)
  useEffect(() => handle.acquire(), [handle])
  return useSyncExternalStore(handle.subscribeMembers, handle.getMembers, handle.getMembers)
}

/**
 * How many connections and users the presence channel `name` has (`{ connections, users }`, the
 * whole cluster), on `'members'` and `'counts'` channels alike: from the subscribe reply, then at
 * most once per presence window. A frozen object that keeps its identity until a count moves;
 * undefined until the first reply, on channels without presence, and after the last unmount.
 */
export function usePresenceCounts(name: string): PresenceCounts | undefined {
  const client = useSwitchboard()
  const handle = channelHandle(client as unknown as SwitchboardClient, name)
  useEffect(() => handle.acquire(), [handle])
  return useSyncExternalStore(handle.subscribeCounts, handle.getCounts, handle.getCounts)
}
