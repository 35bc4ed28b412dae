/**
 * What the Broker contract's parts share: the channels' history options, the byte samples, and
 * the kit each part gets — a fresh broker per test, a recording listener, a channel filled with
 * messages, and the clock the ttl tests move by hand.
 */
import type { StreamPosition } from '@switchboard/protocol'
import type { Broker, BrokerEvent, BrokerMessage, ResolvedHistory } from '../broker.js'

/** What each part of the contract is given. */
export interface ContractKit<B extends Broker = Broker> {
  /** A fresh broker (closed after the test), its clock reset. */
  broker(): Promise<B>
  /** A listener on the channel that records what it gets. */
  listen(b: Broker, channel: string): Promise<BrokerEvent[]>
  /** Publishes `{ i }` for i = 1…n; the position of the last one. */
  fill(b: Broker, channel: string, n: number): Promise<StreamPosition>
  /** Moves the brokers' clock forward, in ms. */
  advance(ms: number): void
}

export const offsets = (messages: BrokerMessage[]) => messages.map((m) => m.offset)

/** Channels named `h…` keep 5 messages (or `ttl…`: 5 messages for 1 s); the others keep none. */
export function historyOf(channel: string): ResolvedHistory | undefined {
  if (channel.startsWith('ttl')) return { size: 5, ttlMs: 1000 }
  if (channel.startsWith('h')) return { size: 5, ttlMs: Number.POSITIVE_INFINITY }
  return undefined
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 10))

/**
 * Data with every byte value shown as `bytes:<hex>`, so bytes compare byte for byte whether a
 * broker hands back a `Uint8Array` or the very `ArrayBuffer` it was given — and a value that came
 * back as anything else (`{"0":1}`, `{}`, a base64 string) does not compare equal.
 */
export function showBytes(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return showBytes(new Uint8Array(value))
  if (value instanceof Uint8Array)
    return `bytes:${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}`
  if (Array.isArray(value)) return value.map(showBytes)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showBytes(v)]))
}

/** Every byte value, so nothing in an encoding (UTF-8, escapes) can go unnoticed. */
export const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i)

/** Bytes alone, nested in objects and arrays, empty, a Buffer's view, an ArrayBuffer, next to plain JSON. */
export function byteSamples(): unknown[] {
  const offsetView = new Uint8Array(ALL_BYTES.buffer.slice(0), 100, 7)
  return [
    Uint8Array.of(1, 2, 3),
    { file: ALL_BYTES, name: 'all.bin', nested: { deeper: [Uint8Array.of(255), 'text', 0] } },
    [new Uint8Array(0), { empty: new Uint8Array(0) }, [[Uint8Array.of(0)]]],
    Uint8Array.of(9, 8, 7).buffer,
    { view: offsetView, buf: Uint8Array.of(42, 43).buffer },
    // Lookalikes that are not bytes stay what they are.
    { $bin: 'AQID', other: 1 },
    '{"$bin":"AQID"}',
    { text: '"$bin"' },
  ]
}
