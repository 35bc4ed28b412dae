/**
 * The chat layout for one signed-in user: sidebar of rooms and members, the room's header with
 * the connection badge, the message list, the typing line and the composer — and, on a server
 * that requires JWTs, the notice when the sign-in is about to end or has ended. The current room
 * lives in the URL hash, the rooms joined in localStorage, so a reload comes back to both.
 */
import { useConnectionState, useSwitchboard } from '@switchboard/react'
import { useCallback, useEffect, useState } from 'react'
import { normalizeRoom } from './chat-types.js'
import { Composer } from './composer.js'
import { ConnectionBadge } from './connection-badge.js'
import type { Me } from './identity.js'
import { MessageList } from './message-list.js'
import { plural } from './plural.js'
import { RoomStore } from './room-store.js'
import { Sidebar } from './sidebar.js'
import { SessionNotice, type SessionProblem } from './token-screens.js'
import { useRoom } from './use-room.js'

const ROOMS_KEY = 'switchboard.rooms'
/** The notice about a token's end shows this long before it. */
const EXPIRY_WARNING_MS = 2 * 60_000

/** The sign-in of a server that requires JWTs. */
export interface TokenSession {
  /** The freshest token this browser has for the user. */
  token: string
  expiresAt: number | undefined
  /** A new token from the person (pasted). */
  onToken: (token: string) => void
  /** The token `getToken` last gave the client. */
  given: () => string | undefined
}

function roomFromHash(): string | undefined {
  return normalizeRoom(decodeURIComponent(location.hash.slice(1)))
}

function savedRooms(): string[] {
  try {
    const rooms = JSON.parse(localStorage.getItem(ROOMS_KEY) ?? '[]') as unknown
    if (Array.isArray(rooms)) {
      const clean = rooms.map((r) => normalizeRoom(String(r))).filter((r): r is string => !!r)
      if (clean.length > 0) return [...new Set(clean)]
    }
  } catch {
    // A corrupt entry: start over.
  }
  return ['general']
}

/** Whether the sign-in ended or is about to, from the connection and the token's expiry. */
function useSessionProblem(session: TokenSession | undefined): SessionProblem | undefined {
  const client = useSwitchboard()
  const { status, closeCode } = useConnectionState()
  const [now, setNow] = useState(() => Date.now())
  const expiresAt = session?.expiresAt
  useEffect(() => {
    if (expiresAt === undefined) return
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [expiresAt])
  // The server ends a connection whose token expired or was refused with 4001 (4003: another user).
  const ended = status === 'closed' && (closeCode === 4001 || closeCode === 4003)
  // A token newer than the one the server turned down (pasted, or from another tab): connect
  // again with it. The one turned down is never tried again, so a refused token cannot loop.
  const token = session?.token
  const given = session?.given
  useEffect(() => {
    if (ended && token !== undefined && token !== given?.() && (expiresAt ?? Infinity) > Date.now()) {
      client.connect()
    }
  }, [ended, token, given, expiresAt, client])
  if (!session) return undefined
  if (ended) {
    return expiresAt !== undefined && expiresAt <= now + 1000
      ? { kind: 'expired', expiresAt }
      : { kind: 'refused' }
  }
  if (expiresAt !== undefined && expiresAt - now < EXPIRY_WARNING_MS) return { kind: 'expiring', expiresAt }
  return undefined
}

export function Chat({ me, session, onSignOut }: { me: Me; session?: TokenSession; onSignOut: () => void }) {
  const [store] = useState(() => new RoomStore())
  const [rooms, setRooms] = useState(() => {
    const rooms = savedRooms()
    const fromHash = roomFromHash()
    return fromHash && !rooms.includes(fromHash) ? [...rooms, fromHash] : rooms
  })
  const [current, setCurrent] = useState(() => roomFromHash() ?? rooms[0]!)
  const [menuOpen, setMenuOpen] = useState(false)

  const select = useCallback((room: string) => {
    setRooms((prev) => (prev.includes(room) ? prev : [...prev, room]))
    setCurrent(room)
    setMenuOpen(false)
  }, [])
  const leave = useCallback(
    (room: string) => {
      setRooms((prev) => {
        const next = prev.filter((r) => r !== room)
        if (room === current) setCurrent(next[0] ?? 'general')
        return next.length > 0 ? next : ['general']
      })
    },
    [current],
  )

  useEffect(() => localStorage.setItem(ROOMS_KEY, JSON.stringify(rooms)), [rooms])
  useEffect(() => {
    if (roomFromHash() !== current) history.replaceState(null, '', `#${current}`)
    document.title = `#${current} · Switchboard Chat`
  }, [current])
  useEffect(() => {
    const onHash = () => {
      const room = roomFromHash()
      if (room) select(room)
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [select])

  const view = useRoom(current, me, store)
  const { status } = useConnectionState()
  const problem = useSessionProblem(session)
  const ended = problem !== undefined && problem.kind !== 'expiring'

  return (
    <div className="layout">
      <Sidebar
        me={me}
        rooms={rooms}
        current={current}
        members={view.members}
        reachable={status === 'connected'}
        signedOut={ended}
        open={menuOpen}
        onSelect={select}
        onLeave={leave}
        onSignOut={onSignOut}
        signOutLabel={session ? 'Sign out' : 'Change name'}
      />
      {menuOpen && (
        <button type="button" className="scrim" aria-label="Close menu" onClick={() => setMenuOpen(false)} />
      )}
      <main className="room-pane">
        <header className="room-header">
          <button
            type="button"
            className="menu"
            aria-label="Rooms and members"
            onClick={() => setMenuOpen(true)}
          >
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path d="M4 6h16M4 12h16M4 18h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            </svg>
          </button>
          <div className="room-title">
            <h1>
              <span className="hash">#</span>
              {current}
            </h1>
            <span className="muted room-sub" data-testid="room-sub">
              {plural(view.members.length, 'member')} · {plural(view.messages.length, 'message')}
            </span>
          </div>
          <ConnectionBadge signedOut={ended} />
        </header>
        <MessageList
          messages={view.messages}
          me={me}
          room={current}
          paging={view.paging}
          onLoadOlder={view.loadOlder}
          sendingStopped={ended}
        />
        <div className="typing" data-testid="typing" aria-live="polite">
          {view.typing.length > 0 && (
            <>
              <span className="typing-dots" aria-hidden="true">
                <i />
                <i />
                <i />
              </span>
              {typingLine(view.typing)}
            </>
          )}
        </div>
        {problem && session && (
          <SessionNotice problem={problem} onToken={session.onToken} onSignOut={onSignOut} />
        )}
        <Composer
          room={current}
          mode={ended ? 'ended' : status === 'connected' ? 'online' : 'offline'}
          onSend={view.send}
          onTyping={view.setTyping}
        />
      </main>
    </div>
  )
}

function typingLine(users: string[]): string {
  if (users.length === 1) return `${users[0]} is typing…`
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`
  return 'Several people are typing…'
}
