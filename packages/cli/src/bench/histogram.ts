/**
 * A latency histogram for `switchboard bench`: log-spaced buckets 1 % wide from 1 µs up, so a
 * worker holding thousands of subscribers keeps a few hundred numbers instead of every sample,
 * and histograms from several processes merge by adding counts. Min, max and mean are exact;
 * percentiles are the upper edge of their bucket (within 1 %), kept between min and max.
 */

/** Plain data, to cross the IPC channel between processes. */
export interface HistogramData {
  count: number
  sum: number
  min: number
  max: number
  /** [bucket index, count] pairs. */
  buckets: Array<[number, number]>
}

export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Values are milliseconds; the first bucket holds everything up to 1 µs (clock skew included). */
const FLOOR = 0.001
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)

const bucketOf = (ms: number): number => (ms <= FLOOR ? 0 : Math.ceil(Math.log(ms / FLOOR) / LOG_GROWTH))
const upperEdge = (index: number): number => FLOOR * GROWTH ** index

export class Histogram {
  count = 0
  sum = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  readonly #buckets = new Map<number, number>()

  add(ms: number): void {
    this.count++
    this.sum += ms
    if (ms < this.min) this.min = ms
    if (ms > this.max) this.max = ms
    const index = bucketOf(ms)
    this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + 1)
  }

  merge(data: HistogramData): void {
    if (data.count === 0) return
    this.count += data.count
    this.sum += data.sum
    this.min = Math.min(this.min, data.min)
    this.max = Math.max(this.max, data.max)
    for (const [index, n] of data.buckets) this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + n)
  }

  /** The value below which a fraction `q` (0–1) of the samples lie; 0 when there are none. */
  percentile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (const index of [...this.#buckets.keys()].sort((a, b) => a - b)) {
      seen += this.#buckets.get(index)!
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, upperEdge(index)))
    }
    return this.max
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    return {
      count: this.count,
      min: this.min,
      mean: this.sum / this.count,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.max,
    }
  }

  toData(): HistogramData {
    return { count: this.count, sum: this.sum, min: this.min, max: this.max, buckets: [...this.#buckets] }
  }
}
