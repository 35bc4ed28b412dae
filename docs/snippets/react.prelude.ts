// What the snippets of docs/react.md use without defining it (see docs/test/snippets.ts).
import type { SwitchboardClient, SwitchboardClientOptions } from '@switchboard/client'
import type { UseChannelOptions, UseWebSocketOptions } from '@switchboard/react'

export type { PresenceCounts, PresenceMember, PresenceUser } from '@switchboard/client'
export { indexedDbOutbox } from '@switchboard/client/outbox'
export { shareConnection } from '@switchboard/client/share'
export {
  SwitchboardProvider,
  useChannel,
  useConnectionState,
  useOutbox,
  usePresence,
  usePresenceCounts,
  useRequest,
  useWebSocket,
} from '@switchboard/react'

export interface ChatApp {
  requests: { 'chat:send': { data: { room: string; text: string }; reply: { status: string } } }
  events: { notice: { text: string } }
  channels: { [name: `chat:${string}`]: { user: string; text: string } }
}
export interface Ticker {
  symbol: string
  price: number
}

export declare const url: string
export declare const clientOptions: SwitchboardClientOptions
export declare const client: SwitchboardClient<ChatApp>
export declare const room: string
export declare const text: string
export declare function append(message: ChatApp['channels'][`chat:${string}`]): void
export declare const onSubscribed: NonNullable<UseChannelOptions['onSubscribed']>
export declare const onRecovery: NonNullable<UseChannelOptions['onRecovery']>
export declare const onError: NonNullable<UseChannelOptions['onError'] & UseWebSocketOptions['onError']>
export declare const onOpen: NonNullable<UseWebSocketOptions['onOpen']>
export declare const onClose: NonNullable<UseWebSocketOptions['onClose']>
