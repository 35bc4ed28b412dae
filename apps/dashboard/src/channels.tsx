/**
 * The channels: a searchable list of the channels with subscribers anywhere in the cluster
 * (`POST /api/channels`), with subscribers, publish rate and history size. It refreshes every
 * fifth stats sample — paced by the one stats stream, not a timer of its own.
 */
import { type FormEvent, useEffect, useState } from 'react'
import type { ChannelRow } from './api-types.js'
import { useDashboard } from './dashboard-context.js'
import { count, rate } from './format.js'
import { href } from './route.js'
import { useStats } from './stats-store.js'

/** What was typed, as the API's pattern: `*` as given, else "contains". */
export const patternOf = (text: string) => {
  const t = text.trim().replace(/[^A-Za-z0-9_\-:.@/=+*]/g, '')
  return t === '' ? undefined : t.includes('*') ? t : `*${t}*`
}

export function Channels() {
  const { api } = useDashboard()
  const { latest } = useStats()
  const [text, setText] = useState('')
  const [pattern, setPattern] = useState<string | undefined>(undefined)
  const [rows, setRows] = useState<ChannelRow[] | undefined>(undefined)
  const [truncated, setTruncated] = useState(false)
  const [error, setError] = useState('')
  const tick = latest ? Math.floor(latest.at / 5000) : 0

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick paces the refresh
  useEffect(() => {
    let current = true
    api.call('channels', pattern === undefined ? {} : { pattern }).then(
      (answer) => {
        if (!current) return
        setRows(answer.channels)
        setTruncated(answer.truncated)
        setError('')
      },
      (err: unknown) => current && setError(err instanceof Error ? err.message : String(err)),
    )
    return () => {
      current = false
    }
  }, [api, pattern, tick])

  const search = (e: FormEvent) => {
    e.preventDefault()
    setPattern(patternOf(text))
  }

  return (
    <div className="page">
      <header className="page-head">
        <h1>Channels</h1>
      </header>
      <search>
        <form onSubmit={search} className="search">
          <label htmlFor="channel-search">Search channels</label>
          <input
            id="channel-search"
            type="search"
            placeholder="chat:lobby, chat:*"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit">Search</button>
        </form>
      </search>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section className="card">
        <div className="scroll">
          <table data-testid="channels">
            <caption className="sr-only">Channels with subscribers</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col" className="num">
                  Subscribers
                </th>
                <th scope="col" className="num">
                  Messages /s
                </th>
                <th scope="col" className="num">
                  History kept
                </th>
              </tr>
            </thead>
            <tbody>
              {rows?.map((row) => (
                <tr key={row.channel}>
                  <td>
                    <a href={href({ page: 'channel', channel: row.channel })}>{row.channel}</a>
                  </td>
                  <td className="num" data-testid="subscribers">
                    {count(row.subscribers)}
                  </td>
                  <td className="num">{rate(row.messagesPerSecond)}</td>
                  <td className="num">{row.history === 0 ? 'none' : count(row.history)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {rows?.length === 0 && (
          <p className="muted">No channel with a subscriber{pattern ? ` matches ${pattern}` : ''}.</p>
        )}
        {truncated && <p className="muted">A node had more channels than it lists: narrow the search.</p>}
      </section>
    </div>
  )
}
