/**
 * When transports write: one flush per event-loop turn for every transport with frames waiting,
 * grouped under load. Shared by the transports that queue frames (WebSocket, SSE), so the rule
 * lives in one place.
 */

/**
 * Queued bytes at which a transport writes at once instead of at the scheduled flush: small frames
 * still coalesce, while a burst of large ones goes to the kernel before it can look like a slow
 * consumer's backlog. Less under a small send bound, so that bytes merely held never pass it.
 */
export function flushThreshold(maxBufferedBytes: number): number {
  return Math.min(64 * 1024, maxBufferedBytes / 2)
}

/** A transport with a queue to write. */
export interface Flushable {
  /** Writes what is queued; called once per scheduling. */
  flushScheduled(): void
}

/**
 * Group writes under load. A flush writes every connection with frames waiting; when one took
 * `cost` ≥ 1 ms, a connection it wrote that gets frames again within `cost` of its end waits, by a
 * timer, until that much time has passed: the frames of a busy stream then share a write, so the
 * server spends at most about half its time writing, instead of one write per message. A quiet
 * connection, or any connection while flushes are cheap, is written at the end of the turn.
 */
const COALESCE_MIN_MS = 1
const COALESCE_MAX_MS = 20

/** Transports with frames waiting, flushed together at the end of the event-loop turn. */
let dirty: Flushable[] = []
/** Busy transports with frames waiting, flushed together by a timer. */
let delayed: Flushable[] = []
/** Counts flushes of either list; a transport remembers the one that last wrote it. */
let cycle = 0
/** When the latest flush ended, and how long the next busy connections wait after it (0: none). */
let cycleEnd = 0
let cycleWait = 0
/** Whether now is within cycleWait of cycleEnd, read once for the first frame queued after a flush. */
let recent: boolean | undefined

function flushList(list: Flushable[]): void {
  cycle++
  const start = performance.now()
  for (const t of list) t.flushScheduled()
  cycleEnd = performance.now()
  const cost = cycleEnd - start
  cycleWait = cost < COALESCE_MIN_MS ? 0 : Math.min(cost, COALESCE_MAX_MS)
  recent = undefined
}

function flushDirty(): void {
  const list = dirty
  dirty = []
  flushList(list)
}

function flushDelayed(): void {
  const list = delayed
  delayed = []
  flushList(list)
}

/** The latest flush cycle; a transport keeps it from its scheduled flush as `lastCycle`. */
export function flushCycle(): number {
  return cycle
}

/**
 * Schedules a transport's flush: by the timer if the latest flush wrote it (`lastCycle` is the
 * cycle of its last scheduled flush) and was costly, else at the end of the turn. A transport
 * that passes -1 is always flushed at the end of the turn.
 */
export function scheduleFlush(t: Flushable, lastCycle: number): void {
  if (lastCycle === cycle && cycleWait > 0) {
    if (recent === undefined) {
      const left = cycleEnd + cycleWait - performance.now()
      recent = left > 0
      if (recent && delayed.length === 0) setTimeout(flushDelayed, Math.max(1, Math.round(left)))
    }
    if (recent) {
      delayed.push(t)
      return
    }
  }
  if (dirty.push(t) === 1) setImmediate(flushDirty)
}
