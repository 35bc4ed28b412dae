/**
 * Epochs: a channel's stream is named by an epoch and numbered by offsets within it. A new epoch
 * starts whenever a broker cannot vouch for the old stream (a channel forgotten, a store restarted
 * empty), so a client resuming from an older epoch is told its position is gone.
 */
import { randomBytes } from 'node:crypto'

/** A fresh random epoch: 8 base64url characters (48 random bits). */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url')
}
