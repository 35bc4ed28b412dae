/**
 * useRoom: one chat room's live state for the components — messages (the latest page of history
 * on join, then the live stream; refetched after every resubscribe, since a restarted server may
 * have lost what we missed), older pages on demand (`$history` with `before`), who is a member,
 * who is typing, and `send`, which shows a message as pending at once and publishes it with its
 * id as the idempotency key. A message written while not connected goes to the client's durable
 * outbox, so it survives a reload: the outbox's entries for this room are shown pending too, also
 * those of the page before, until they land.
 */
import type { SwitchboardError } from '@switchboard/client'
import { useChannel, useOutbox, usePresence, useRequest, useSwitchboard } from '@switchboard/react'
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import type { ChatApp, ChatMessage, Member, MemberInfo } from './chat-types.js'
import type { Me } from './identity.js'
import { type HistoryPaging, isChatMessage, type RoomStore, type ShownMessage } from './room-store.js'

/** The page read on join, and each page read further back. */
export const HISTORY_PAGE = 200
const TYPING_SHOWN_MS = 4000
const TYPING_RESEND_MS = 2000
/** A publish waits this long, queued offline included, before being retried. */
const PUBLISH_TIMEOUT_MS = 60_000
/** Failures that mean "not now": the publish is tried again later, with the same key. */
const TRANSIENT = ['timeout', 'disconnected', 'limit_exceeded', 'unavailable', 'rate_limited']

export interface RoomView {
  messages: readonly ShownMessage[]
  /** One entry per user on the room's presence list (this user too, once subscribed), by name. */
  members: Member[]
  /** Other users typing now. */
  typing: string[]
  paging: HistoryPaging
  /** Reads the page of history before the oldest message shown. */
  loadOlder: () => void
  send: (text: string) => void
  /** Call on each keystroke in the composer; `false` when the text is sent or cleared. */
  setTyping: (typing: boolean) => void
}

export function useRoom(room: string, me: Me, store: RoomStore): RoomView {
  const client = useSwitchboard<ChatApp>()
  const request = useRequest<ChatApp>()
  const channel = `chat:${room}` as const

  const loadLatest = useCallback(async () => {
    try {
      const reply = await request('$history', { channel, limit: HISTORY_PAGE })
      store.received(
        room,
        reply.messages.map((m) => ({ ...m, epoch: reply.epoch })),
      )
      const known = store.paging(room)
      const first = reply.messages[0]
      // Keep how far back we already read, unless the epoch changed (then those offsets mean nothing).
      if (known.epoch === reply.epoch && known.oldest !== undefined && first && known.oldest <= first.offset)
        return
      store.setPaging(room, {
        epoch: reply.epoch,
        ...(first ? { oldest: first.offset } : {}),
        more: first !== undefined && first.offset > 1,
        loading: false,
      })
    } catch {
      // An older server without `$history`: the live stream still works.
    }
  }, [request, channel, room, store])

  const loadOlder = useCallback(() => {
    const paging = store.paging(room)
    if (!paging.more || paging.loading || paging.epoch === undefined || paging.oldest === undefined) return
    const { epoch, oldest } = paging
    store.setPaging(room, { ...paging, loading: true })
    request('$history', { channel, limit: HISTORY_PAGE, before: oldest, epoch }).then(
      (reply) => {
        if (reply.epoch !== epoch) {
          // The channel's history started again: what we have is all there is of the old one.
          store.setPaging(room, { ...paging, more: false, loading: false })
          return
        }
        store.received(
          room,
          reply.messages.map((m) => ({ ...m, epoch })),
        )
        const first = reply.messages[0]
        store.setPaging(room, {
          epoch,
          oldest: first ? first.offset : oldest,
          more: first !== undefined && first.offset > 1,
          loading: false,
        })
      },
      () => store.setPaging(room, { ...paging, loading: false }),
    )
  }, [request, channel, room, store])

  useChannel<ChatApp, `chat:${string}`>(channel, (_data, message) => store.received(room, [message]), {
    // Every (re)subscribe: fetch the latest page. On a resumed subscription it only fills gaps;
    // after a server restart (new epoch, `recovered: false`) it is how missed messages come back.
    onSubscribed: () => void loadLatest(),
  })

  // What the outbox still has to send to this room, this page's or the page's before a reload.
  const outbox = useOutbox()
  useEffect(() => {
    for (const entry of outbox) {
      const frame = entry.frame
      if (frame.type === 'publish' && frame.channel === channel && isChatMessage(frame.data)) {
        store.pending(room, frame.data)
      }
    }
  }, [outbox, channel, room, store])

  // Typing: other users' notices expire after a few seconds of silence.
  const [typingUntil, setTypingUntil] = useState<Record<string, number>>({})
  const { publish: publishTyping } = useChannel<ChatApp, `typing:${string}`>(`typing:${room}`, (notice) => {
    if (notice.user === me.name) return
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
      // Not durable: a typing notice is stale after a reload, so it is not kept in the outbox.
      publishTyping({ user: me.name, typing: active }, { durable: false }).catch(() => {})
    },
    [client, me.name, publishTyping],
  )

  const send = useCallback(
    (text: string) => {
      const message: ChatMessage = {
        id: crypto.randomUUID(),
        user: me.name,
        from: me.userId,
        text,
        ts: Date.now(),
      }
      store.pending(room, message)
      const attempt = (delay: number): void => {
        client
          .publish(channel, message, { key: message.id, timeout: PUBLISH_TIMEOUT_MS })
          .then((position) => store.confirmed(room, message.id, position))
          .catch((err: SwitchboardError) => {
            if (store.isConfirmed(room, message.id)) return
            // Refused for good (forbidden, invalid), or the client closed for good (a session
            // that ended): leave it pending — shown "not sent" then — rather than loop.
            if (!TRANSIENT.includes(err.code) || client.state === 'closed') return
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
  const paging = useSyncExternalStore(
    store.subscribe,
    () => store.paging(room),
    () => store.paging(room),
  )
  const presence = usePresence(channel)
  const members = useMemo(
    () =>
      presence
        .map((m): Member => {
          const info = (m.info ?? {}) as MemberInfo
          return {
            userId: m.userId,
            name: typeof info.name === 'string' ? info.name : m.userId,
            // Without info (another server), a member is not known to be verified.
            verified: info.verified === true,
          }
        })
        .sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId)),
    [presence],
  )

  return { messages, members, typing, paging, loadOlder, send, setTyping }
}
