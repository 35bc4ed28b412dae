/**
 * The epoch of a channel that has no stream yet. Reading a channel must not create anything, yet
 * what a read reports must hold: a subscriber told `{ epoch: E, offset: 0 }` before the first
 * publish must find that publish at `{ E, 1 }`. So the empty epoch is computed, not stored —
 * from a per-broker random seed, the channel name, and a generation — and the first publish
 * creates the stream in it. That publish also moves the generation of the channel's slot, so
 * once the stream is forgotten the channel's next empty epoch is another one, and a client still
 * holding a position in the old stream is told `recovered: false`.
 *
 * Generations live in a fixed table of 4,096 slots (a slot: the first three hex digits of the
 * SHA-1 of the name), so the memory is bounded whatever names are read. Channels that share a
 * slot move together: an unpublished channel's empty epoch can change when another channel in
 * its slot is published for the first time, which costs a subscriber that resumes from it a
 * `recovered: false` — never a false `true`. RedisBroker computes the same thing in Lua.
 */
import { createHash, randomBytes } from 'node:crypto'

/** Slots of the generation table: 16^3. */
export const EMPTY_EPOCH_SLOTS = 4096

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

/** The slot of a channel in the generation table: the first three hex digits of SHA-1(name). */
export function epochSlot(channel: string): number {
  return Number.parseInt(sha1(channel).slice(0, 3), 16)
}

/** An empty epoch: the first 12 hex digits of SHA-1(seed \n generation \n channel). */
export function emptyEpoch(seed: string, generation: number, channel: string): string {
  return sha1(`${seed}\n${generation}\n${channel}`).slice(0, 12)
}

/** The empty epochs of one in-memory broker: its seed and its generation table. */
export class EmptyEpochs {
  private readonly seed = randomBytes(9).toString('base64url')
  private readonly generations = new Float64Array(EMPTY_EPOCH_SLOTS)

  /** The epoch `channel` reports while it has no stream, and its first publish creates. */
  of(channel: string): string {
    return emptyEpoch(this.seed, this.generations[epochSlot(channel)]!, channel)
  }

  /** The channel's stream was just created: its next empty epoch must differ. */
  used(channel: string): void {
    this.generations[epochSlot(channel)]! += 1
  }
}
