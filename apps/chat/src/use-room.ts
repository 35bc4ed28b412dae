/**
 * useRoom: one chat room's live state for the components — messages (history on join, then the
 * live stream; refetched after every resubscribe, since a restarted server may have lost what we
 * missed), who is online, who is typing, and `send`, which shows a message as pending at once and
 * keeps publishing it with the same idempotency key until the server acknowledges it.
 */
import type { SwitchboardError } from '@switchboard/client'
import { useChannel, usePresence, useRequest, useSwitchboard } from '@switchboard/react'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import type { ChatApp, ChatMessage } from './chat-types.js'
import type { RoomStore, ShownMessage } from './room-store.js'

const HISTORY_LIMIT = 200
const TYPING_SHOWN_MS = 4000
const TYPING_RESEND_MS = 2000
/** A publish waits this long, queued offline included, before being retried. */
const PUBLISH_TIMEOUT_MS = 60_000

export interface RoomView {
  messages: readonly ShownMessage[]
  /** Distinct user names on the room's presence list (this user too, once subscribed), sorted. */
  online: string[]
  /** Other users typing now. */
  typing: string[]
  send: (text: string) => void
  /** Call on each keystroke in the composer; `false` when the text is sent or cleared. */
  setTyping: (typing: boolean) => void
}

export function useRoom(room: string, me: string, store: RoomStore): RoomView {
  const client = useSwitchboard<ChatApp>()
  const request = useRequest<ChatApp>()
  const channel = `chat:${room}` as const

  const loadHistory = useCallback(async () => {
    try {
      const reply = await request('$history', { channel, limit: HISTORY_LIMIT })
      store.received(
        room,
        reply.messages.map((m) => m.data),
      )
    } catch {
      // An older server without `$history`: the live stream still works.
    }
  }, [request, channel, room, store])

  useChannel<ChatApp, `chat:${string}`>(channel, (message) => store.received(room, [message]), {
    // Every (re)subscribe: fetch recent history. On a resumed subscription it only fills gaps;
    // after a server restart (new epoch, `recovered: false`) it is how missed messages come back.
    onSubscribed: () => void loadHistory(),
  })

  // Typing: other users' notices expire after a few seconds of silence.
  const [typingUntil, setTypingUntil] = useState<Record<string, number>>({})
  const { publish: publishTyping } = useChannel<ChatApp, `typing:${string}`>(`typing:${room}`, (notice) => {
    if (notice.user === me) return
    setTypingUntil((prev) => {
      const next = { ...prev }
      if (notice.typing) next[notice.user] = Date.now() + TYPING_SHOWN_MS
      else delete next[notice.user]
      return next
    })
  })
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new room starts with nobody typing.
  useEffect(() => setTypingUntil({}), [room])
  const [now, setNow] = useState(() => Date.now())
  const anyoneTyping = Object.keys(typingUntil).length > 0
  useEffect(() => {
    if (!anyoneTyping) return
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [anyoneTyping])
  const typing = Object.entries(typingUntil)
    .filter(([, until]) => until > now)
    .map(([user]) => user)
    .sort()

  const lastTypingSent = useRef(0)
  const setTyping = useCallback(
    (active: boolean) => {
      // Typing notices are ephemeral: never queue them while offline.
      if (client.state !== 'connected') return
      const t = Date.now()
      if (active && t - lastTypingSent.current < TYPING_RESEND_MS) return
      if (!active && lastTypingSent.current === 0) return
      lastTypingSent.current = active ? t : 0
      publishTyping({ user: me, typing: active }).catch(() => {})
    },
    [client, me, publishTyping],
  )

  const send = useCallback(
    (text: string) => {
      const message: ChatMessage = { id: crypto.randomUUID(), user: me, text, ts: Date.now() }
      store.pending(room, message)
      const attempt = (delay: number): void => {
        client
          .publish(channel, message, { key: message.id, timeout: PUBLISH_TIMEOUT_MS })
          .then(() => store.confirmed(room, message.id))
          .catch((err: SwitchboardError) => {
            if (store.isConfirmed(room, message.id)) return
            // Refused for good (forbidden, invalid): leave it pending rather than loop.
            if (!['timeout', 'disconnected', 'limit_exceeded', 'unavailable'].includes(err.code)) return
            setTimeout(() => attempt(Math.min(delay * 2, 10_000)), delay)
          })
      }
      attempt(1000)
    },
    [client, channel, me, room, store],
  )

  const messages = useSyncExternalStore(
    store.subscribe,
    () => store.messages(room),
    () => store.messages(room),
  )
  const members = usePresence(channel)
  const online = useMemo(
    () => [...new Set(members.map((m) => m.userId))].sort((a, b) => a.localeCompare(b)),
    [members],
  )

  return { messages, online, typing, send, setTyping }
}
