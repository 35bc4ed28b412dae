/**
 * The sidebar: the user, the rooms this tab has joined (and a field to join or create one), and
 * the room's members — each marked "unverified" when no token vouches for the name, and all shown
 * grey while this page is offline or reconnecting: the list is then only the last one known, not
 * who is reachable now.
 */
import { type FormEvent, useState } from 'react'
import { Avatar } from './avatar.js'
import { type Member, normalizeRoom } from './chat-types.js'
import type { Me } from './identity.js'

interface SidebarProps {
  me: Me
  rooms: string[]
  current: string
  members: Member[]
  /** This page is connected: the member list is current. */
  reachable: boolean
  /** The server ended the session (token expired or refused): not a network matter. */
  signedOut?: boolean
  open: boolean
  onSelect: (room: string) => void
  onLeave: (room: string) => void
  onSignOut: () => void
  signOutLabel: string
}

export function Sidebar({
  me,
  rooms,
  current,
  members,
  reachable,
  signedOut = false,
  open,
  onSelect,
  onLeave,
  onSignOut,
  signOutLabel,
}: SidebarProps) {
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
          {reachable ? 'Online' : 'Last seen'} in #{current} <span className="count">{members.length}</span>
        </h2>
        {!reachable && (
          <p className="members-note" data-testid="members-note">
            {signedOut ? 'You are signed out' : 'You are offline'}: this list may be out of date.
          </p>
        )}
        <ul
          className={`members${reachable ? '' : ' members-stale'}`}
          data-testid="members"
          data-reachable={reachable}
        >
          {members.map((member) => (
            <li key={member.userId} className="member" title={member.userId}>
              <span className="member-avatar">
                <Avatar name={member.name} size={28} />
                <span className="presence-dot" />
              </span>
              <span className="member-name">{member.name}</span>
              {!member.verified && (
                <span className="unverified" title="Anyone can pick this name: nothing proves who it is">
                  unverified
                </span>
              )}
              {member.userId === me.userId && <span className="you">you</span>}
            </li>
          ))}
        </ul>
      </section>

      <div className="me">
        <Avatar name={me.name} size={32} />
        <span className="me-name">{me.name}</span>
        <button type="button" className="link" onClick={onSignOut}>
          {signOutLabel}
        </button>
      </div>
    </aside>
  )
}
