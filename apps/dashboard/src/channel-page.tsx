/**
 * One channel: who is in it (presence), its last messages (history), a live tail of what is
 * published on it now (`GET /api/tail`, one stream while the page is open) and, for a session
 * that may act, a form to publish to it.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from 'react'
import { API_BASE, ApiCallError } from './api.js'
import type { HistoryMessage, PresenceMember, TailMessage } from './api-types.js'
import { useDashboard } from './dashboard-context.js'
import { openEventStream } from './event-stream.js'
import { count, preview, time } from './format.js'
import { href } from './route.js'

const TAIL_KEPT = 200

/** An API read that the channel's options may refuse (403): its answer, or why not. */
type Read<T> =
  | { state: 'loading' }
  | { state: 'ok'; value: T }
  | { state: 'refused' | 'failed'; message: string }

function useRead<T>(read: () => Promise<T>, deps: unknown[]): [Read<T>, () => void] {
  const [result, setResult] = useState<Read<T>>({ state: 'loading' })
  const [again, setAgain] = useState(0)
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the read depends on
  useEffect(() => {
    let current = true
    read().then(
      (value) => current && setResult({ state: 'ok', value }),
      (err: unknown) =>
        current &&
        setResult({
          state: err instanceof ApiCallError && err.status === 403 ? 'refused' : 'failed',
          message: err instanceof Error ? err.message : String(err),
        }),
    )
    return () => {
      current = false
    }
  }, [...deps, again])
  return [result, () => setAgain((n) => n + 1)]
}

export function ChannelPage({ channel }: { channel: string }) {
  const { api, canAct } = useDashboard()
  const [info] = useRead(() => api.call('channels', { pattern: channel }), [api, channel])
  const [presence] = useRead(() => api.call('presence', { channel }), [api, channel])
  const [history, reloadHistory] = useRead(() => api.call('history', { channel, limit: 50 }), [api, channel])
  const [tail, setTail] = useState<TailMessage[]>([])
  const [tailLive, setTailLive] = useState(false)

  useEffect(() => {
    setTail([])
    return openEventStream(`${API_BASE}tail?channel=${encodeURIComponent(channel)}`, api.bearer, {
      onEvent: (event, data) => {
        if (event === 'message') setTail((t) => [data as TailMessage, ...t].slice(0, TAIL_KEPT))
      },
      onState: setTailLive,
    })
  }, [api, channel])

  const row = info.state === 'ok' ? info.value.channels.find((c) => c.channel === channel) : undefined

  return (
    <div className="page">
      <header className="page-head">
        <p>
          <a href={href({ page: 'channels' })}>← Channels</a>
        </p>
        <h1>
          <code>{channel}</code>
        </h1>
        <p className="muted">
          <span data-testid="channel-subscribers">{row ? count(row.subscribers) : 0}</span> subscriber(s) ·{' '}
          {row ? row.messagesPerSecond.toFixed(1) : '0.0'} messages/s · history{' '}
          {row && row.history > 0 ? `keeps ${count(row.history)}` : 'not kept or not known'}
        </p>
      </header>

      {canAct && <PublishForm channel={channel} onPublished={reloadHistory} />}

      <div className="columns">
        <section className="card" aria-labelledby="tail-title">
          <h2 id="tail-title">
            Live tail <span className="muted small">{tailLive ? '● live' : '○ connecting'}</span>
          </h2>
          {tail.length === 0 ? (
            <p className="muted">Messages published from now on appear here.</p>
          ) : (
            <ol className="messages" data-testid="tail" aria-live="polite">
              {tail.map((m) => (
                <Message key={`${m.epoch}:${m.offset}`} offset={m.offset} data={m.data} />
              ))}
            </ol>
          )}
        </section>
        <section className="card" aria-labelledby="presence-title">
          <h2 id="presence-title">Presence</h2>
          <ReadView read={presence} refused="This channel does not track presence.">
            {(p: { members?: PresenceMember[]; users: number; connections: number }) => (
              <>
                <p className="muted">
                  {count(p.users)} user(s), {count(p.connections)} connection(s)
                </p>
                <ul className="members" data-testid="presence">
                  {(p.members ?? []).map((m) => (
                    <li key={m.userId}>
                      <a href={href({ page: 'user', user: m.userId })}>{m.userId}</a>{' '}
                      <code className="muted small">×{m.connections}</code>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </ReadView>
        </section>
      </div>

      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">Last messages</h2>
        <ReadView read={history} refused="This channel keeps no history.">
          {(h: { messages: HistoryMessage[] }) =>
            h.messages.length === 0 ? (
              <p className="muted">No message retained.</p>
            ) : (
              <ol className="messages" data-testid="history">
                {[...h.messages].reverse().map((m) => (
                  <Message key={`${m.epoch}:${m.offset}`} offset={m.offset} data={m.data} />
                ))}
              </ol>
            )
          }
        </ReadView>
      </section>
    </div>
  )
}

function Message({ offset, data }: { offset: number; data: unknown }) {
  return (
    <li>
      <span className="offset">#{offset}</span> <code>{preview(data)}</code>
    </li>
  )
}

function ReadView<T>({
  read,
  refused,
  children,
}: {
  read: Read<T>
  refused: string
  children: (value: T) => ReactNode
}) {
  switch (read.state) {
    case 'loading':
      return <p className="muted">Loading…</p>
    case 'ok':
      return <>{children(read.value)}</>
    default:
      return read.state === 'refused' ? (
        <p className="muted">{refused}</p>
      ) : (
        <p className="error">{read.message}</p>
      )
  }
}

function PublishForm({ channel, onPublished }: { channel: string; onPublished: () => void }) {
  const { api } = useDashboard()
  const [text, setText] = useState('{"text": "hello from the dashboard"}')
  const [status, setStatus] = useState<{ ok: boolean; message: string } | undefined>(undefined)
  const publish = async (e: FormEvent) => {
    e.preventDefault()
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      setStatus({ ok: false, message: 'The data must be JSON (quote text: "hello").' })
      return
    }
    try {
      const { offset } = await api.call('publish', { channel, data })
      setStatus({ ok: true, message: `Published at offset ${offset} (${time(Date.now())}).` })
      onPublished()
    } catch (err) {
      setStatus({ ok: false, message: err instanceof Error ? err.message : String(err) })
    }
  }
  return (
    <form className="card publish" onSubmit={publish} aria-labelledby="publish-title">
      <h2 id="publish-title">Publish</h2>
      <label htmlFor="publish-data">Data (JSON)</label>
      <textarea id="publish-data" rows={3} value={text} onChange={(e) => setText(e.target.value)} />
      <div className="actions">
        <button type="submit" className="primary">
          Publish to {channel}
        </button>
        {status && (
          <span role="status" className={status.ok ? 'ok' : 'error'}>
            {status.message}
          </span>
        )}
      </div>
    </form>
  )
}
