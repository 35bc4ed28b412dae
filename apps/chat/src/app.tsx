/**
 * The app shell: the name screen, then one SwitchboardProvider per name (the name goes in the
 * handshake query, which is how `switchboard serve` knows who you are in dev mode) — or, with a
 * `?token=` in the page's URL (a server run with `--jwt-secret`), the token as identity — around the
 * chat layout — sidebar of rooms and members, the room's header with the connection badge, the
 * message list, the typing line and the composer. The current room lives in the URL hash.
 */
import { createBackoff, type SwitchboardClientOptions } from '@switchboard/client'
import { SwitchboardProvider, useConnectionState } from '@switchboard/react'
import { useCallback, useEffect, useState } from 'react'
import { normalizeRoom } from './chat-types.js'
import { Composer } from './composer.js'
import { ConnectionBadge } from './connection-badge.js'
import { Login } from './login.js'
import { MessageList } from './message-list.js'
import { RoomStore } from './room-store.js'
import { Sidebar } from './sidebar.js'
import { useRoom } from './use-room.js'

const NAME_KEY = 'switchboard.name'
const ROOMS_KEY = 'switchboard.rooms'
// Reconnect quickly after a restart: full jitter from 300 ms, never more than 5 s apart. Where a
// WebSocket cannot open (a proxy blocks it), fall back to SSE, then long-polling.
const CLIENT_OPTIONS: SwitchboardClientOptions = {
  backoff: createBackoff({ base: 300, max: 5000 }),
  minUptime: 2000,
  transports: ['websocket', 'sse', 'long-polling'],
}

function socketUrl(name?: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const base = `${scheme}://${location.host}/ws`
  return name === undefined ? base : `${base}?name=${encodeURIComponent(name)}`
}

/** A JWT in the page's URL (`/?token=…`): for a server run with `--jwt-secret`. */
function pageToken(): string | undefined {
  return new URLSearchParams(location.search).get('token') || undefined
}

/** Who the token says we are (`name`, else `sub`, as the server reads it); the server verifies it. */
function nameInToken(token: string): string {
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))))
    const name = claims?.name || claims?.sub
    return typeof name === 'string' ? name : 'me'
  } catch {
    return 'me'
  }
}

export function App() {
  const [name, setName] = useState<string | undefined>(undefined)
  const token = pageToken()
  if (token) {
    // The token is the identity: sent in an `auth` frame on every connect, no name screen.
    return (
      <SwitchboardProvider url={socketUrl()} options={{ ...CLIENT_OPTIONS, getToken: () => token }}>
        <Chat me={nameInToken(token)} onSignOut={() => location.assign('/')} />
      </SwitchboardProvider>
    )
  }
  if (!name) {
    return (
      <Login
        onJoin={(chosen) => {
          localStorage.setItem(NAME_KEY, chosen)
          setName(chosen)
        }}
      />
    )
  }
  return (
    <SwitchboardProvider key={name} url={socketUrl(name)} options={CLIENT_OPTIONS}>
      <Chat me={name} onSignOut={() => setName(undefined)} />
    </SwitchboardProvider>
  )
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

function Chat({ me, onSignOut }: { me: string; onSignOut: () => void }) {
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

  return (
    <div className="layout">
      <Sidebar
        me={me}
        rooms={rooms}
        current={current}
        online={view.online}
        open={menuOpen}
        onSelect={select}
        onLeave={leave}
        onSignOut={onSignOut}
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
            <span className="muted room-sub">
              {view.online.length} online · {view.messages.length} messages
            </span>
          </div>
          <ConnectionBadge />
        </header>
        <MessageList messages={view.messages} me={me} room={current} />
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
        <Composer
          room={current}
          offline={status !== 'connected'}
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
