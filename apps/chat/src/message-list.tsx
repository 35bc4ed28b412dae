/**
 * The message list: day separators, messages grouped by sender (consecutive, within 5 minutes),
 * avatars, times, a pending marker on own messages not yet acknowledged. Sticks to the bottom
 * while the reader is there.
 */
import { useLayoutEffect, useRef } from 'react'
import { Avatar, colorOf } from './avatar.js'
import type { ShownMessage } from './room-store.js'

const GROUP_MS = 5 * 60_000
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const day = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })

export function MessageList({
  messages,
  me,
  room,
}: {
  messages: readonly ShownMessage[]
  me: string
  room: string
}) {
  const scroller = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the messages change.
  useLayoutEffect(() => {
    const el = scroller.current
    if (el && atBottom.current) el.scrollTop = el.scrollHeight
  }, [messages, room])

  return (
    <div
      className="messages"
      ref={scroller}
      data-testid="messages"
      onScroll={(e) => {
        const el = e.currentTarget
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
      }}
    >
      {messages.length === 0 ? (
        <div className="empty">
          <div className="empty-mark">#</div>
          <h3>This is the start of #{room}</h3>
          <p className="muted">Say hello — everyone in the room sees it live.</p>
        </div>
      ) : (
        <ol>
          {messages.map((m, i) => {
            const prev = messages[i - 1]
            const newDay = !prev || new Date(prev.ts).toDateString() !== new Date(m.ts).toDateString()
            const grouped = !newDay && prev && prev.user === m.user && m.ts - prev.ts < GROUP_MS
            return (
              <li key={m.id} className="message-item">
                {newDay && (
                  <div className="day">
                    <span>{day.format(m.ts)}</span>
                  </div>
                )}
                <article
                  className={`message${grouped ? ' message-grouped' : ''}${m.user === me ? ' message-mine' : ''}`}
                  data-testid="message"
                  data-id={m.id}
                  data-delivery={m.delivery}
                >
                  <div className="message-gutter">
                    {grouped ? (
                      <time className="message-hover-time">{time.format(m.ts)}</time>
                    ) : (
                      <Avatar name={m.user} />
                    )}
                  </div>
                  <div className="message-body">
                    {!grouped && (
                      <header>
                        <span className="message-user" style={{ color: colorOf(m.user) }}>
                          {m.user}
                        </span>
                        <time dateTime={new Date(m.ts).toISOString()}>{time.format(m.ts)}</time>
                      </header>
                    )}
                    <p className="message-text">
                      {m.text}
                      {m.delivery === 'pending' && (
                        <span className="pending" title="Will be sent when the connection is back">
                          sending…
                        </span>
                      )}
                    </p>
                  </div>
                </article>
              </li>
            )
          })}
        </ol>
      )}
    </div>
  )
}
