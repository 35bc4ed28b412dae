/**
 * What the dashboard's API methods do (dashboard-schemas.ts defines them): `whoami` tells the
 * caller's access, `session` signs a session token with the caller's key (never more access than
 * it has; only from a key or a dashboard link, so a session cannot extend itself), `connections`
 * asks every node for the matching connections and lists the newest first.
 */
import type { ControlResult } from '@switchboard/broker'
import { ErrorCode } from '@switchboard/protocol'
import { type ConnectionInfo, type StatsAnswers, statsCommand } from '../stats/stats-commands.js'
import { ApiError } from './api-error.js'
import type { Credential } from './api-keys.js'
import type { ApiContext } from './api-methods.js'
import { MAX_SESSION_SECONDS } from './dashboard-schemas.js'
import type { RequestOf, ResponseOf } from './schemas.js'
import { signToken } from './signed-tokens.js'

type DashboardMethodName = 'whoami' | 'session' | 'connections'
type Methods = {
  [N in DashboardMethodName]: (
    ctx: ApiContext,
    body: RequestOf<N>,
    caller: Credential,
  ) => Promise<ResponseOf<N>>
}

const DEFAULT_SESSION_SECONDS = 12 * 3600
const DEFAULT_CONNECTIONS_LIMIT = 100

export const DASHBOARD_API_METHODS: Methods = {
  async whoami(_ctx, _body, caller) {
    return { access: caller.access, via: caller.via }
  },

  async session(_ctx, { ttl = DEFAULT_SESSION_SECONDS }, caller) {
    if (caller.via === 'session') {
      throw new ApiError(
        ErrorCode.FORBIDDEN,
        'a session is made from a key or a dashboard link, not a session',
      )
    }
    const expires = Date.now() + Math.min(ttl, MAX_SESSION_SECONDS) * 1000
    return {
      token: signToken(caller.key, { kind: 'session', access: caller.access, expires }),
      access: caller.access,
      expires,
    }
  },

  async connections(ctx, { user, connection, limit = DEFAULT_CONNECTIONS_LIMIT }) {
    const data = {
      limit,
      ...(user === undefined ? {} : { user }),
      ...(connection === undefined ? {} : { connection }),
    }
    const result: ControlResult = await ctx.broker.control(statsCommand('connections', data), {
      timeoutMs: ctx.commandTimeoutMs,
    })
    const answers = result.replies.flatMap((r) =>
      r.ok ? [r.data as unknown as StatsAnswers['connections']] : [],
    )
    const all: ConnectionInfo[] = answers.flatMap((a) => a.connections).sort((a, b) => b.since - a.since)
    return {
      connections: all.slice(0, limit),
      truncated: all.length > limit || answers.some((a) => a.truncated),
      nodes: { reached: result.reached, answered: answers.length },
    }
  },
}
