/**
 * The message list: day separators, messages grouped by sender (consecutive, within 5 minutes),
 * avatars, times, links made clickable, a pending marker on own messages not yet acknowledged
 * ("not sent" once the session has ended). Sticks to the bottom while the reader is there;
 * scrolling to the top reads the page of history before the oldest message (or the "Load older"
 * button does), keeping the reader's place.
 */
import { useLayoutEffect, useRef } from 'react'
import { Avatar, colorOf } from './avatar.js'
import type { Me } from './identity.js'
import { linkify } from './linkify.js'
import type { HistoryPaging, ShownMessage } from './room-store.js'

/** Scrolled this close to the top, the older page is read. */
const NEAR_TOP_PX = 80

const GROUP_MS = 5 * 60_000
const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const day = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })

export function MessageList({
  messages,
  me,
  room,
  paging,
  onLoadOlder,
  sendingStopped,
}: {
  messages: readonly ShownMessage[]
  me: Me
  room: string
  paging: HistoryPaging
  onLoadOlder: () => void
  /** The session ended: pending messages will not be sent. */
  sendingStopped: boolean
}) {
  const scroller = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  // Where the reader was, to keep their place when older messages are put above.
  const anchor = useRef<{ firstId: string | undefined; height: number; top: number }>({
    firstId: undefined,
    height: 0,
    top: 0,
  })
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the messages change.
  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const firstId = messages[0]?.id
    const before = anchor.current
    if (atBottom.current) el.scrollTop = el.scrollHeight
    else if (before.firstId !== undefined && firstId !== before.firstId) {
      // Older messages came in above: move down by what they added.
      el.scrollTop = before.top + (el.scrollHeight - before.height)
    }
    anchor.current = { firstId, height: el.scrollHeight, top: el.scrollTop }
  }, [messages, room])

  const mine = (m: ShownMessage) => (m.from !== undefined ? m.from === me.userId : m.user === me.name)

  return (
    <div
      className="messages"
      ref={scroller}
      data-testid="messages"
      onScroll={(e) => {
        const el = e.currentTarget
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
        anchor.current = { firstId: messages[0]?.id, height: el.scrollHeight, top: el.scrollTop }
        if (el.scrollTop < NEAR_TOP_PX && paging.more && !paging.loading) onLoadOlder()
      }}
    >
      {paging.more && (
        <div className="older">
          <button type="button" className="link" onClick={onLoadOlder} disabled={paging.loading}>
            {paging.loading ? 'Loading older messages…' : 'Load older messages'}
          </button>
        </div>
      )}
      {!paging.more && paging.epoch !== undefined && messages.length > 0 && (
        <div className="older muted" data-testid="history-start">
          The start of what #{room} keeps
        </div>
      )}
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
            const grouped =
              !newDay && prev && prev.user === m.user && prev.from === m.from && m.ts - prev.ts < GROUP_MS
            return (
              <li key={m.id} className="message-item">
                {newDay && (
                  <div className="day">
                    <span>{day.format(m.ts)}</span>
                  </div>
                )}
                <article
                  className={`message${grouped ? ' message-grouped' : ''}${mine(m) ? ' message-mine' : ''}`}
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
                      <span className="message-content">{linkify(m.text)}</span>
                      {m.delivery === 'pending' &&
                        (sendingStopped ? (
                          <span className="pending not-sent" title="The session ended before it was sent">
                            not sent
                          </span>
                        ) : (
                          <span className="pending" title="Will be sent when the connection is back">
                            sending…
                          </span>
                        ))}
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
