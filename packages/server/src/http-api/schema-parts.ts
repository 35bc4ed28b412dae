/**
 * The pieces the HTTP API's method schemas are built from (schemas.ts, user-schemas.ts,
 * dashboard-schemas.ts): a channel name, data, a stream position, how a cluster-wide command went,
 * an error body — each a TypeBox schema, so its type and its check are one definition.
 */
import { Type } from '@sinclair/typebox'
import { DEFAULT_LIMITS, ERROR_CODES } from '@switchboard/protocol'

export const CHANNEL_PATTERN = '^[A-Za-z0-9_\\-:.@/=+]+$'

export const Channel = Type.String({
  minLength: 1,
  maxLength: DEFAULT_LIMITS.maxChannelLength,
  pattern: CHANNEL_PATTERN,
  description: 'A channel name: 1–256 characters from `A-Z a-z 0-9 _ - : . @ / = +`.',
})

export const Data = Type.Unknown({
  description:
    'Any JSON value. Bytes are written `{ "$bin": "<base64>" }` (an object with that one key), as in the protocol’s JSON codec.',
})

export const Epoch = Type.String({ description: 'The epoch of the channel’s stream.' })
export const Offset = Type.Integer({ minimum: 0, description: 'The offset in that epoch.' })

export const Position = Type.Object({ epoch: Epoch, offset: Offset }, { additionalProperties: false })

export const Nodes = Type.Object(
  {
    reached: Type.Integer({ minimum: 0, description: 'Nodes the command reached.' }),
    answered: Type.Integer({
      minimum: 0,
      description: 'Nodes that answered in time; fewer than `reached` means the result may be partial.',
    }),
  },
  { additionalProperties: false, description: 'How the command went around the cluster.' },
)

export const strict = { additionalProperties: false } as const

export const ErrorBody = Type.Object(
  {
    code: Type.String({
      enum: ERROR_CODES.map((e) => e.code),
      description: 'A code of the protocol’s error table.',
    }),
    message: Type.String(),
    details: Type.Optional(
      Type.Unknown({
        description: 'What went wrong in detail: for a failed check, the issues as `[{ message, path? }]`.',
      }),
    ),
  },
  strict,
)
