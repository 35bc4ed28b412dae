/**
 * Disconnecting a user (or connections) everywhere: the one path of `sb.disconnectUser` and
 * `POST /api/disconnect`. One control command reaches every node (`broker.control`, one PUBLISH
 * with Redis), and each node closes its own connections of the user, found in its part of the
 * user index (user-index.ts) — a connection whose broker add is still on its way included — and
 * answers how many; the answers are added up. The default close is terminal (4004: the SDK does
 * not reconnect); `reconnect: true` closes with 4103, which the SDK answers by connecting again
 * (with a fresh token from `getToken`): "log in again".
 */
import type { Broker } from '@switchboard/broker'
import { CloseCode } from '@switchboard/protocol'
import { type NodeAnswers, nodeCommand, type Target } from '../http-api/node-commands.js'

export interface DisconnectUserOptions {
  /**
   * The close code: 1000, 1001, 1012, 1013 or 3000–4999. Default 4004 (terminal), or 4103
   * (reconnect) with `reconnect: true`.
   */
  code?: number
  /** The close reason, at most 123 bytes of UTF-8. Default empty. */
  reason?: string
  /** Close with 4103, which makes clients connect again (to log in again), instead of 4004. */
  reconnect?: boolean
}

/** What a disconnect did: connections closed, and how many nodes it reached and heard from. */
export interface DisconnectResult {
  disconnected: number
  nodes: { reached: number; answered: number }
}

/** The close code a disconnect uses: `code`, else 4103 with `reconnect`, else 4004. */
export function disconnectCode(options: DisconnectUserOptions): number {
  if (options.code !== undefined) return options.code
  return options.reconnect === true ? CloseCode.RECONNECT_REQUIRED : CloseCode.USER_DISCONNECTED
}

/** Whether `code` may be sent to close a connection (RFC 6455: 1000, 1001, 1012, 1013, 3000–4999). */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ([1000, 1001, 1012, 1013].includes(code) || (code >= 3000 && code <= 4999))
}

/**
 * Closes the target's connections on every node with `code` and `reason` (checked by the
 * caller). Rejects if the broker could not send the command (the guarded broker's `unavailable`).
 */
export async function disconnectEverywhere(
  broker: Broker,
  target: Target,
  code: number,
  reason: string,
  timeoutMs: number,
): Promise<DisconnectResult> {
  const result = await broker.control(nodeCommand('disconnect', { target, code, reason }), { timeoutMs })
  let disconnected = 0
  let answered = 0
  for (const reply of result.replies) {
    if (!reply.ok) continue
    answered++
    disconnected += (reply.data as unknown as NodeAnswers['disconnect']).disconnected
  }
  return { disconnected, nodes: { reached: result.reached, answered } }
}
