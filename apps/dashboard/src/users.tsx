/**
 * Users and connections: search by user id or by connection id (`POST /api/connections`), or see
 * the newest connections; each row leads to its user's page.
 */
import { type FormEvent, useEffect, useState } from 'react'
import type { ConnectionRow, RequestOf } from './api-types.js'
import { ConnectionsTable } from './connections-table.js'
import { useDashboard } from './dashboard-context.js'

export function Users() {
  const { api } = useDashboard()
  const [by, setBy] = useState<'user' | 'connection'>('user')
  const [text, setText] = useState('')
  const [query, setQuery] = useState<RequestOf<'connections'>>({ limit: 100 })
  const [rows, setRows] = useState<ConnectionRow[] | undefined>(undefined)
  const [error, setError] = useState('')

  useEffect(() => {
    let current = true
    api.call('connections', query).then(
      (answer) => current && setRows(answer.connections),
      (err: unknown) => current && setError(err instanceof Error ? err.message : String(err)),
    )
    return () => {
      current = false
    }
  }, [api, query])

  const search = (e: FormEvent) => {
    e.preventDefault()
    const value = text.trim()
    setError('')
    setQuery(value === '' ? { limit: 100 } : by === 'user' ? { user: value } : { connection: value })
  }

  return (
    <div className="page">
      <header className="page-head">
        <h1>Users and connections</h1>
      </header>
      <search>
        <form onSubmit={search} className="search">
          <label htmlFor="search-by">Search by</label>
          <select id="search-by" value={by} onChange={(e) => setBy(e.target.value as 'user' | 'connection')}>
            <option value="user">user id</option>
            <option value="connection">connection id</option>
          </select>
          <label htmlFor="user-search" className="sr-only">
            {by === 'user' ? 'User id' : 'Connection id'}
          </label>
          <input
            id="user-search"
            type="search"
            placeholder={by === 'user' ? 'alice' : 'connection id'}
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
      <section className="card" aria-label="Connections found">
        <p className="muted">
          {query.user !== undefined
            ? `Connections of ${query.user}`
            : query.connection !== undefined
              ? `Connection ${query.connection}`
              : 'The newest connections'}
        </p>
        {rows && <ConnectionsTable rows={rows} />}
      </section>
    </div>
  )
}
