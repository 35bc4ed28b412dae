/**
 * How a publish that Redis did not confirm is reported: not published, or outcome unknown (the
 * broker seam's `BrokerOutcomeUnknownError`, which the server answers `timeout`).
 */
import { BrokerOutcomeUnknownError } from '@switchboard/broker'
import { ReplyError } from 'ioredis'

/**
 * What a failed publish means. Redis answered with an error (`ReplyError`: the script did not
 * run, or failed before its first write), or the command was never written (the connection was
 * not ready: ioredis refuses at once, without an offline queue): not published, the error as it
 * is. Anything else — the command timed out, or the connection dropped while it was in flight —
 * may still be carried out by Redis (it may be asleep, or just slow): `BrokerOutcomeUnknownError`.
 */
export function publishFailure(err: unknown): unknown {
  if (err instanceof ReplyError) return err
  // "Stream isn't writeable and…", "Cluster isn't ready and…": never sent.
  if (err instanceof Error && err.message.includes('enableOfflineQueue options is false')) return err
  const reason = err instanceof Error ? err.message : String(err)
  return new BrokerOutcomeUnknownError(
    `publish sent to Redis but not confirmed (${reason}); it may still land`,
    {
      cause: err,
    },
  )
}
