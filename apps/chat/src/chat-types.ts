/**
 * The chat's event map: what travels on `chat:<room>` (messages, with history and presence) and
 * `typing:<room>` (typing notices, no history), and the server's built-in `$history` and
 * `$presence` requests. Shared by every component through the hooks' type parameter.
 */
import type { PresenceUser } from '@switchboard/client'

export interface ChatMessage {
  /** Made by the sender; also the publish idempotency key, so a resend lands (and shows) once. */
  id: string
  /** The sender's display name. */
  user: string
  /** The sender's presence user id (tells apart two browsers that claim one name). */
  from?: string
  text: string
  /** Sender's clock, ms since the epoch. */
  ts: number
}

export interface TypingNotice {
  user: string
  typing: boolean
}

export interface HistoryReply {
  epoch: string
  offset: number
  messages: Array<{ offset: number; data: ChatMessage }>
}

export interface ChatApp {
  requests: {
    $history: {
      data: { channel: string; limit: number; before?: number; epoch?: string }
      reply: HistoryReply
    }
    $presence: {
      data: { channel: string; counts?: boolean }
      reply: { connections: number; users: number; members?: PresenceUser[] }
    }
  }
  events: Record<string, never>
  channels: {
    [name: `chat:${string}`]: ChatMessage
    [name: `typing:${string}`]: TypingNotice
  }
}

/** The longest message the composer sends, in characters. */
export const MAX_MESSAGE_LENGTH = 4000

/** What the server's presence info holds for a member (`switchboard serve`). */
export interface MemberInfo {
  name?: string
  verified?: boolean
}

/** A member of a room, as the member list shows it. */
export interface Member {
  userId: string
  name: string
  verified: boolean
}

/** Room names: lower-case letters, digits and dashes, 1–32 characters. */
export function normalizeRoom(input: string): string | undefined {
  const room = input
    .trim()
    .toLowerCase()
    .replace(/^#/, '')
    .replace(/[\s_]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 32)
  return room.length > 0 ? room : undefined
}
