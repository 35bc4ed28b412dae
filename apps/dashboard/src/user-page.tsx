/**
 * One user: its open connections on every node, refreshed every fifth stats sample, and — for a
 * session that may act — disconnecting all of them (`POST /api/disconnect`) or revoking its tokens
 * (`POST /api/revoke`, where the server has it), each after a confirmation.
 */
import { useEffect, useState } from 'react'
import type { ConnectionRow } from './api-types.js'
import { ConfirmButton } from './confirm-button.js'
import { ConnectionsTable } from './connections-table.js'
import { useDashboard } from './dashboard-context.js'
import { href } from './route.js'
import { useStats } from './stats-store.js'

export function UserPage({ user }: { user: string }) {
  const { api, canAct, canRevoke } = useDashboard()
  const { latest } = useStats()
  const [rows, setRows] = useState<ConnectionRow[] | undefined>(undefined)
  const [done, setDone] = useState('')
  const [again, setAgain] = useState(0)
  const tick = latest ? Math.floor(latest.at / 5000) : 0

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick and again pace the refresh
  useEffect(() => {
    let current = true
    api.call('connections', { user }).then(
      (answer) => current && setRows(answer.connections),
      () => {},
    )
    return () => {
      current = false
    }
  }, [api, user, tick, again])

  const disconnect = async () => {
    const { disconnected } = await api.call('disconnect', { user, reason: 'disconnected from the dashboard' })
    setDone(`Closed ${disconnected} connection(s) of ${user}.`)
    setAgain((n) => n + 1)
  }
  const revoke = async () => {
    // issuedBefore defaults to now: every token of the user issued until now.
    await api.call('revoke', { user })
    setDone(`The tokens of ${user} issued until now are revoked.`)
    setAgain((n) => n + 1)
  }

  return (
    <div className="page">
      <header className="page-head">
        <p>
          <a href={href({ page: 'users' })}>← Users</a>
        </p>
        <h1>
          User <code>{user}</code>
        </h1>
        <p className="muted" data-testid="user-connection-count">
          {rows === undefined ? 'Loading…' : `${rows.length} open connection(s)`}
        </p>
      </header>
      {canAct && (
        <section className="actions card" aria-label="Actions" data-testid="user-actions">
          <ConfirmButton
            label="Disconnect"
            title={`Disconnect ${user}?`}
            confirmLabel="Disconnect every connection"
            onConfirm={disconnect}
          >
            <p>
              Every open connection of <strong>{user}</strong> on every node is closed (code 4004: clients do
              not reconnect on their own). It does not keep them out: revoke their tokens for that.
            </p>
          </ConfirmButton>
          {canRevoke && (
            <ConfirmButton
              label="Revoke tokens"
              title={`Revoke the tokens of ${user}?`}
              confirmLabel="Revoke"
              onConfirm={revoke}
            >
              <p>
                Every token of <strong>{user}</strong> issued until now stops being accepted, and their
                connections close; they must log in again.
              </p>
            </ConfirmButton>
          )}
          {done && (
            <p role="status" className="ok">
              {done}
            </p>
          )}
        </section>
      )}
      <section className="card" aria-label="Connections">
        {rows && <ConnectionsTable rows={rows} />}
      </section>
    </div>
  )
}
