/**
 * Consistent hashing of names (channels) over shards: each shard owns many points on a ring of
 * 32-bit hashes, and a name belongs to the first point at or after its own hash. Every node that
 * is given the same shard names places every channel on the same shard, whatever order the list
 * is in; adding or removing one of N shards moves about 1/N of the channels.
 */
import { createHash } from 'node:crypto'

/** Points per shard: enough that shards get near-equal shares (within a few percent). */
const POINTS = 160

const hash32 = (text: string) => createHash('sha1').update(text).digest().readUInt32BE(0)

export class HashRing {
  private readonly points: number[]
  private readonly owners: number[]

  /** `names` identify the shards (their index in this list is what `shardOf` answers). */
  constructor(names: readonly string[]) {
    if (names.length === 0) throw new Error('a hash ring needs at least one shard')
    if (new Set(names).size !== names.length) throw new Error('shard names must differ')
    const all: Array<[number, number]> = []
    for (const [index, name] of names.entries()) {
      for (let i = 0; i < POINTS; i++) all.push([hash32(`${name}#${i}`), index])
    }
    // Ties (vanishingly rare) go to the lower name, so every node breaks them alike.
    all.sort((a, b) => a[0] - b[0] || names[a[1]]!.localeCompare(names[b[1]]!))
    this.points = all.map((p) => p[0])
    this.owners = all.map((p) => p[1])
  }

  /** The index of the shard that owns `name`. */
  shardOf(name: string): number {
    const h = hash32(name)
    let lo = 0
    let hi = this.points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.points[mid]! < h) lo = mid + 1
      else hi = mid
    }
    return this.owners[lo === this.points.length ? 0 : lo]!
  }
}
