/** A table of connections: id, user, node, transport, address, since when, channels. */
import type { ConnectionRow } from './api-types.js'
import { dateTime } from './format.js'
import { href } from './route.js'

export function ConnectionsTable({ rows }: { rows: ConnectionRow[] }) {
  if (rows.length === 0) return <p className="muted">No open connection.</p>
  return (
    <div className="scroll">
      <table data-testid="connections">
        <thead>
          <tr>
            <th scope="col">Connection</th>
            <th scope="col">User</th>
            <th scope="col">Node</th>
            <th scope="col">Transport</th>
            <th scope="col">Address</th>
            <th scope="col">Since</th>
            <th scope="col">Channels</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.id} data-testid="connection">
              <td>
                <code>{c.id}</code>
              </td>
              <td>
                {c.user === undefined ? '—' : <a href={href({ page: 'user', user: c.user })}>{c.user}</a>}
              </td>
              <td>{c.node}</td>
              <td>{c.transport}</td>
              <td>{c.address}</td>
              <td>{dateTime(c.since)}</td>
              <td>
                {c.channels.map((channel) => (
                  <a key={channel} className="chip" href={href({ page: 'channel', channel })}>
                    {channel}
                  </a>
                ))}
                {c.subscriptions > c.channels.length && ` +${c.subscriptions - c.channels.length}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
