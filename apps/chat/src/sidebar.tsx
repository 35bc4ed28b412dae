/** The sidebar: the user, the rooms this tab has joined (and a field to join or create one), who is online. */
import { type FormEvent, useState } from 'react'
import { Avatar } from './avatar.js'
import { normalizeRoom } from './chat-types.js'

interface SidebarProps {
  me: string
  rooms: string[]
  current: string
  online: string[]
  open: boolean
  onSelect: (room: string) => void
  onLeave: (room: string) => void
  onSignOut: () => void
}

export function Sidebar({ me, rooms, current, online, open, onSelect, onLeave, onSignOut }: SidebarProps) {
  const [draft, setDraft] = useState('')
  const join = (event: FormEvent) => {
    event.preventDefault()
    const room = normalizeRoom(draft)
    if (!room) return
    setDraft('')
    onSelect(room)
  }
  return (
    <aside className={`sidebar${open ? ' sidebar-open' : ''}`} aria-label="Rooms and members">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Switchboard
      </div>

      <section>
        <h2>Rooms</h2>
        <ul className="rooms">
          {rooms.map((room) => (
            <li key={room}>
              <button
                type="button"
                className={`room${room === current ? ' room-active' : ''}`}
                aria-current={room === current ? 'page' : undefined}
                onClick={() => onSelect(room)}
              >
                <span className="hash">#</span>
                {room}
              </button>
              {rooms.length > 1 && (
                <button
                  type="button"
                  className="room-leave"
                  title={`Leave #${room}`}
                  onClick={() => onLeave(room)}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
        <form className="join" onSubmit={join}>
          <input
            aria-label="Join or create a room"
            placeholder="Join or create a room"
            value={draft}
            maxLength={40}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" disabled={!normalizeRoom(draft)}>
            Join
          </button>
        </form>
      </section>

      <section className="members-section">
        <h2>
          Online in #{current} <span className="count">{online.length}</span>
        </h2>
        <ul className="members" data-testid="members">
          {online.map((name) => (
            <li key={name} className="member">
              <span className="member-avatar">
                <Avatar name={name} size={28} />
                <span className="presence-dot" />
              </span>
              <span className="member-name">{name}</span>
              {name === me && <span className="you">you</span>}
            </li>
          ))}
        </ul>
      </section>

      <div className="me">
        <Avatar name={me} size={32} />
        <span className="me-name">{me}</span>
        <button type="button" className="link" onClick={onSignOut}>
          Change name
        </button>
      </div>
    </aside>
  )
}
