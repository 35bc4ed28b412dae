/**
 * The API methods the operations dashboard needs, defined as schemas.ts defines the others (and
 * spread into its METHODS, so they are validated, typed and documented the same way): who the
 * caller is (`whoami`), a session token for the dashboard (`session`), and the connections of a
 * user or a connection id across the cluster (`connections`). Only types come from schemas.ts,
 * which imports this module.
 */
import { Type } from '@sinclair/typebox'
import { strict } from './schema-parts.js'
import type { MethodDefinition } from './schemas.js'

const Access = Type.Union([Type.Literal('full'), Type.Literal('read'), Type.Literal('publish')], {
  description: '`full`: every method; `read`: the methods that read; `publish`: publish and broadcast.',
})

/** The longest session a token is made for: 24 hours. */
export const MAX_SESSION_SECONDS = 24 * 3600
/** The most connections `connections` lists. */
export const MAX_LISTED_CONNECTIONS = 1000

export const WhoamiRequest = Type.Object({}, strict)
export const WhoamiResponse = Type.Object(
  {
    access: Access,
    via: Type.Union([Type.Literal('key'), Type.Literal('session'), Type.Literal('link')], {
      description: 'An API key, or a signed token (a dashboard session, or a dashboard link).',
    }),
  },
  strict,
)

export const SessionRequest = Type.Object(
  {
    ttl: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: MAX_SESSION_SECONDS,
        description: 'Seconds the session lasts (default 43,200: 12 hours).',
      }),
    ),
  },
  strict,
)
export const SessionResponse = Type.Object(
  {
    token: Type.String({ description: 'A bearer token with the caller’s access, until `expires`.' }),
    access: Access,
    expires: Type.Integer({ description: 'Milliseconds since the epoch.' }),
  },
  strict,
)

export const ConnectionsRequest = Type.Object(
  {
    user: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'This user’s connections.' }),
    ),
    connection: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'This connection, by id.' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_LISTED_CONNECTIONS,
        description: 'The most connections listed (default 100).',
      }),
    ),
  },
  { ...strict, not: { required: ['user', 'connection'] } },
)
export const ConnectionsResponse = Type.Object(
  {
    connections: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          user: Type.Optional(Type.String({ description: 'Absent while it has not authenticated.' })),
          node: Type.String(),
          transport: Type.String({ description: '`websocket`, `sse` or `long-polling`.' }),
          address: Type.String({ description: 'The remote address it connected from.' }),
          since: Type.Integer({ description: 'When it opened, in milliseconds since the epoch.' }),
          channels: Type.Array(Type.String(), { description: 'Its subscriptions (at most 100 listed).' }),
          subscriptions: Type.Integer({ minimum: 0 }),
        },
        strict,
      ),
      { description: 'The newest first.' },
    ),
    truncated: Type.Boolean({ description: 'There were more than `limit`.' }),
    nodes: Type.Object(
      { reached: Type.Integer({ minimum: 0 }), answered: Type.Integer({ minimum: 0 }) },
      { ...strict, description: 'How the command went around the cluster.' },
    ),
  },
  strict,
)

export const DASHBOARD_METHODS = {
  whoami: {
    summary: 'What the caller’s key allows',
    description: 'The access of the key or token that calls it; the dashboard hides what it may not do.',
    access: 'any',
    request: WhoamiRequest,
    response: WhoamiResponse,
  },
  session: {
    summary: 'A session token for the dashboard',
    description:
      'A signed bearer token with the caller’s access (never more), valid for `ttl` seconds. Called with a key or a `switchboard dashboard-link` token, not with a session token.',
    access: 'read',
    request: SessionRequest,
    response: SessionResponse,
  },
  connections: {
    summary: 'The open connections of a user, of one connection id, or of everyone',
    description:
      'Node, transport, remote address, opening time and subscriptions of each open connection that matches, on every node; the newest first.',
    access: 'read',
    request: ConnectionsRequest,
    response: ConnectionsResponse,
  },
} as const satisfies Record<string, MethodDefinition>
