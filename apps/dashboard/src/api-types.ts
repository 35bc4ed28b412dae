/**
 * The shapes the dashboard reads, taken from the server's own definitions (type-only imports: the
 * TypeBox schemas the server validates and documents with, and the stats stream's sample), so the
 * dashboard cannot drift from the API it calls.
 */
import type { MethodName, RequestOf, ResponseOf } from '../../../packages/server/src/http-api/schemas.js'

export type {
  CloseCounts,
  FiringAlert,
  NodeSample,
  StatsSample,
} from '../../../packages/server/src/stats/stats-sample.js'
export type { MethodName, RequestOf, ResponseOf }

export type Access = ResponseOf<'whoami'>['access']
export type ChannelRow = ResponseOf<'channels'>['channels'][number]
export type ConnectionRow = ResponseOf<'connections'>['connections'][number]
export type HistoryMessage = ResponseOf<'history'>['messages'][number]
export type PresenceMember = NonNullable<ResponseOf<'presence'>['members']>[number]

/** A message of the live tail (`GET /api/tail`). */
export interface TailMessage {
  channel: string
  epoch: string
  offset: number
  data: unknown
}
