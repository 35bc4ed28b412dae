/**
 * What the `switchboard bench` orchestrator and its worker processes share: the clock both sides
 * measure with, the data every benchmark message carries, and the messages on the IPC channel
 * between them.
 */
import type { HistogramData } from './histogram.js'

/**
 * Milliseconds since the epoch, with sub-millisecond resolution. Every process on the machine
 * reads the same wall clock, so a time taken by the publisher can be compared by a subscriber.
 */
export const clock = (): number => performance.timeOrigin + performance.now()

/** Adds the counts of `from` (by code) into `into`, and returns it. */
export function addCounts(
  into: Record<string, number>,
  from: Record<string, number>,
): Record<string, number> {
  for (const [code, n] of Object.entries(from)) into[code] = (into[code] ?? 0) + n
  return into
}

/** The data of a benchmark message: its scheduled send time, the run it belongs to, padding. */
export interface BenchData {
  t: number
  run: string
  pad: string
}

export function isBenchData(data: unknown, run: string): data is BenchData {
  if (typeof data !== 'object' || data === null) return false
  const d = data as Partial<BenchData>
  return d.run === run && typeof d.t === 'number'
}

/** Where to connect and what to subscribe to. */
export interface Target {
  url: string
  token: string | undefined
  channel: string
  /** Tells this run's messages from other traffic on the channel. */
  run: string
}

/** How subscribers fared when connecting. */
export interface ConnectStats {
  connected: number
  failed: number
  /** Why connections failed, by error code. */
  connectErrors: Record<string, number>
  /** Time from opening a socket to the subscribe reply, per client. */
  connectLatency: HistogramData
}

/** What a worker's subscribers saw, at the end. */
export interface SubscriberStats extends ConnectStats {
  /** Messages of this run received in order (offset above the previous one). */
  delivered: number
  /** Messages of this run whose offset was not above the previous one: reordered or duplicated. */
  outOfOrder: number
  /** Subscribers the server disconnected during the run. */
  disconnected: number
  /** Error frames and unexpected close codes after connecting, by code. */
  errors: Record<string, number>
  /** Scheduled send time to receipt, per delivered message. */
  latency: HistogramData
  /** Clock time of the last delivery; 0 if none. */
  lastReceipt: number
}

export type ToWorker =
  | { type: 'start'; target: Target; clients: number; connectTimeoutMs: number }
  | { type: 'stop' }

export type FromWorker =
  | { type: 'connected'; stats: ConnectStats }
  | { type: 'progress'; delivered: number }
  | { type: 'result'; stats: SubscriberStats }
