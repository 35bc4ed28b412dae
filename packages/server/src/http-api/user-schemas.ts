/**
 * The HTTP API's methods that act on users' connections and tokens, on every node — subscribe,
 * unsubscribe, disconnect (by user or by connection) and revoke: their requests and answers as
 * TypeBox schemas, listed in schemas.ts's method table.
 */
import { Type } from '@sinclair/typebox'
import { Channel, ErrorBody, Nodes, strict } from './schema-parts.js'

export const TargetFields = {
  user: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'Every connection of this user, on every node. A connection’s user is its presence `userId`: the `presence(conn)` option’s, else the token’s subject with `tokenAuth`, else the connection id.',
    }),
  ),
  connection: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'One connection, by id, on whichever node.' }),
  ),
}
/** Exactly one of `user` and `connection`. */
export const ONE_TARGET = { oneOf: [{ required: ['user'] }, { required: ['connection'] }] }

export const SubscribeRequest = Type.Object(
  { ...TargetFields, channel: Channel },
  { ...strict, ...ONE_TARGET },
)
export const SubscribeResponse = Type.Object(
  {
    subscribed: Type.Integer({ minimum: 0, description: 'Connections subscribed (or already subscribed).' }),
    failed: Type.Array(Type.Object({ connection: Type.String(), error: ErrorBody }, strict), {
      description: 'Connections that could not be subscribed (at most 100 listed).',
    }),
    nodes: Nodes,
  },
  strict,
)
export const UnsubscribeRequest = SubscribeRequest
export const UnsubscribeResponse = Type.Object(
  {
    unsubscribed: Type.Integer({
      minimum: 0,
      description: 'Connections that were subscribed and no longer are.',
    }),
    nodes: Nodes,
  },
  strict,
)

export const DisconnectRequest = Type.Object(
  {
    ...TargetFields,
    code: Type.Optional(
      Type.Integer({
        anyOf: [{ enum: [1000, 1001, 1012, 1013] }, { minimum: 3000, maximum: 4999 }],
        description:
          'The close code (default 4004, terminal: clients do not reconnect; 4103 with `reconnect`). 4000–4099 are terminal, 4100–4199 and 1012/1013 make clients reconnect.',
      }),
    ),
    reconnect: Type.Optional(
      Type.Boolean({
        description:
          'Without `code`: close with 4103, which makes clients connect again (to log in again), instead of 4004.',
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 123, description: 'At most 123 bytes of UTF-8.' })),
  },
  { ...strict, ...ONE_TARGET },
)
export const DisconnectResponse = Type.Object(
  { disconnected: Type.Integer({ minimum: 0 }), nodes: Nodes },
  strict,
)

export const RevokeRequest = Type.Object(
  {
    jti: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'Revoke the one token whose `jti` claim this is.',
      }),
    ),
    user: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'Revoke the user’s tokens issued before `issuedBefore`: the token’s subject (a JWT’s `sub`, the connect hook’s `user`).',
      }),
    ),
    issuedBefore: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'With `user`: seconds since the epoch, as a JWT’s `iat` (fractions allowed); tokens issued before it are revoked. Default: now. A token without `iat` is covered by any revocation of its user.',
      }),
    ),
  },
  { ...strict, oneOf: [{ required: ['jti'] }, { required: ['user'] }] },
)
export const RevokeResponse = Type.Object(
  {
    expiresAt: Type.Number({
      description:
        'When the revocation is forgotten, in seconds since the epoch: `revocationTtl` after it (or after `issuedBefore`, if later), when every token it covers has expired.',
    }),
  },
  strict,
)
