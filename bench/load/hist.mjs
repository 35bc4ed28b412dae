// A log-bucketed latency histogram (≈2% resolution, 1 µs … 100 s), cheap to fill and to merge
// across processes.
const SCALE = 50
const SIZE = Math.ceil(Math.log(1e8) * SCALE) + 1

export class Hist {
  constructor(counts) {
    this.counts = counts ? Float64Array.from(counts) : new Float64Array(SIZE)
  }

  add(us) {
    const i = us <= 1 ? 0 : Math.min(SIZE - 1, Math.round(Math.log(us) * SCALE))
    this.counts[i]++
  }

  merge(other) {
    const c = other instanceof Hist ? other.counts : other
    for (let i = 0; i < SIZE; i++) this.counts[i] += c[i] ?? 0
    return this
  }

  get total() {
    let n = 0
    for (let i = 0; i < SIZE; i++) n += this.counts[i]
    return n
  }

  /** The q-quantile (0…1) in µs, or null when empty. */
  quantile(q) {
    const total = this.total
    if (total === 0) return null
    const want = Math.max(1, Math.ceil(total * q))
    let n = 0
    for (let i = 0; i < SIZE; i++) {
      n += this.counts[i]
      if (n >= want) return Math.exp(i / SCALE)
    }
    return Math.exp((SIZE - 1) / SCALE)
  }

  toJSON() {
    // sparse: [index, count] pairs
    const out = []
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) out.push([i, this.counts[i]])
    return out
  }

  static fromJSON(pairs) {
    const h = new Hist()
    for (const [i, n] of pairs) h.counts[i] += n
    return h
  }
}
