/**
 * The connection badge: connected / connecting / reconnecting / offline, from useConnectionState;
 * "Signed out" when the server ended the session (a token expired or refused), which no network
 * brings back.
 */
import { useConnectionState } from '@switchboard/react'

const LABELS = {
  connected: 'Connected',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  disconnected: 'Offline',
  closed: 'Offline',
} as const

export function ConnectionBadge({ signedOut = false }: { signedOut?: boolean }) {
  const { status } = useConnectionState()
  const tone =
    status === 'connected' ? 'ok' : status === 'closed' || status === 'disconnected' ? 'down' : 'wait'
  return (
    <span className={`badge badge-${tone}`} data-testid="connection" data-state={status} role="status">
      <span className="badge-dot" />
      {signedOut ? 'Signed out' : LABELS[status]}
    </span>
  )
}
