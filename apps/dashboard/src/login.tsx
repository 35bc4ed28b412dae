/**
 * The login form: an API key (a full or read-only key of the server's `api.keys`), exchanged at
 * once for a session token — the key is not kept. `switchboard dashboard-link` links skip it.
 */
import { type FormEvent, useState } from 'react'
import { ApiCallError } from './api.js'
import { openSession, type Session } from './session.js'

export function Login({
  onSession,
  notice,
}: {
  onSession: (s: Session) => void
  notice?: string | undefined
}) {
  const [key, setKey] = useState('')
  const [error, setError] = useState(notice ?? '')
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      onSession(await openSession(key.trim()))
    } catch (err) {
      setError(
        err instanceof ApiCallError && err.status === 401
          ? 'That key is not one of this server’s API keys.'
          : err instanceof ApiCallError && err.status === 403
            ? 'That key may only publish: the dashboard needs a full or read-only key.'
            : `The server did not answer (${err instanceof Error ? err.message : String(err)}).`,
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">Switchboard dashboard</h1>
        <p className="muted">Log in with an API key of this server (a full or a read-only key).</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          required
          minLength={16}
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p className="muted small">
          The key is exchanged for a session that this tab keeps until it closes; or open a link from{' '}
          <code>switchboard dashboard-link</code>.
        </p>
      </form>
    </main>
  )
}
