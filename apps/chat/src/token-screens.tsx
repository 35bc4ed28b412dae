/**
 * What a person sees about their sign-in on a server that requires JWTs: the screen when there is
 * no token (what happened, how to get one), and the notices in the room when the token is about to
 * expire, has expired, or was refused — each with a field to paste a new token. The app has no way
 * to get a token by itself (`switchboard serve` verifies tokens but does not issue them), so a
 * token about to expire is renewed only by one the person brings: pasted here, or opened in a new
 * link in any tab of this browser. `getToken` gives the server that token when it asks.
 */
import { type FormEvent, useState } from 'react'
import { claimsOf } from './identity.js'

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

function TokenForm({ onToken, label }: { onToken: (token: string) => void; label: string }) {
  const [draft, setDraft] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const token = draft.trim()
    if (!claimsOf(token)) {
      setError('That is not a sign-in token (a JWT: three parts separated by dots, with a subject).')
      return
    }
    setError(undefined)
    setDraft('')
    onToken(token)
  }
  return (
    <form className="token-form" onSubmit={submit}>
      <label htmlFor="token">{label}</label>
      <div className="token-row">
        <input
          id="token"
          name="token"
          autoComplete="off"
          spellCheck={false}
          placeholder="eyJhbGciOi…"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="primary" disabled={!draft.trim()}>
          Use token
        </button>
      </div>
      {error && (
        <p className="token-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

/** The first screen on a server that requires a token, when this browser has none. */
export function TokenMissing({ onToken }: { onToken: (token: string) => void }) {
  return (
    <main className="login">
      <section className="login-card" data-testid="token-missing">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Switchboard
        </div>
        <h1>Sign-in link needed</h1>
        <p className="muted">
          This chat server only lets in people with a signed token (a JWT), and this browser has none. Open
          the sign-in link you were given — it ends in <code>?token=…</code> — or paste the token below.
        </p>
        <p className="muted small">
          Running the server yourself? Make one with{' '}
          <code data-testid="token-command">
            npx switchboard token --secret … --sub you --claim name="Your name"
          </code>
          .
        </p>
        <TokenForm onToken={onToken} label="Sign-in token" />
      </section>
    </main>
  )
}

export type SessionProblem =
  | { kind: 'expiring'; expiresAt: number }
  | { kind: 'expired'; expiresAt: number }
  | { kind: 'refused' }

/** The notice above the composer: the sign-in is about to end, or has ended. */
export function SessionNotice({
  problem,
  onToken,
  onSignOut,
}: {
  problem: SessionProblem
  onToken: (token: string) => void
  onSignOut: () => void
}) {
  const ended = problem.kind !== 'expiring'
  return (
    <section
      className={`session-notice${ended ? ' session-ended' : ''}`}
      role={ended ? 'alert' : 'status'}
      data-testid="session-notice"
      data-kind={problem.kind}
    >
      {problem.kind === 'expiring' && (
        <>
          <h2>Your sign-in ends at {clock.format(problem.expiresAt)}</h2>
          <p>
            The server will then disconnect you. This app cannot renew a token by itself: open a new sign-in
            link in any tab, or paste a new token here, and the connection carries on with it.
          </p>
        </>
      )}
      {problem.kind === 'expired' && (
        <>
          <h2>Your session expired at {clock.format(problem.expiresAt)}</h2>
          <p>
            The server disconnected you when your sign-in token ran out. Nothing you write now can be sent —
            messages marked “not sent” stay unsent. Paste a new token (or open a new sign-in link) to carry
            on.
          </p>
        </>
      )}
      {problem.kind === 'refused' && (
        <>
          <h2>The server refused this sign-in token</h2>
          <p>
            It is not signed with the server's key, or is for another issuer or audience. Nothing can be sent
            with it. Paste a valid token, or ask for a new sign-in link.
          </p>
        </>
      )}
      <TokenForm onToken={onToken} label={ended ? 'New sign-in token' : 'Renew with a new token'} />
      {ended && (
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      )}
    </section>
  )
}
