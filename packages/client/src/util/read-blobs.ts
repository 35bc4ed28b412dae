/**
 * Blobs in data (a browser's `File` from an `<input>`, say) are read into bytes before a frame is
 * made — a frame is encoded at once, a Blob only reads asynchronously — without changing the order
 * in which the calls' frames go out.
 */
import { noop } from './noop.js'

/**
 * Runs each `send` with its data once any Blob in it is read: one without a Blob, and with none
 * waiting, goes at once; those after one wait their turn, so the order of calls is the order of
 * frames.
 */
export class BlobOrder {
  /** Settles once the last data holding a Blob has been read and sent. */
  #reading: Promise<void> | undefined

  send<T>(data: unknown, send: (data: unknown) => Promise<T>): Promise<T> {
    const blobs = readBlobs(data)
    if (!blobs && !this.#reading) return send(data)
    const read = (this.#reading ?? Promise.resolve()).then(() => blobs ?? data)
    const sent = read.then(send)
    const done = read.then(noop, noop)
    this.#reading = done
    void done.then(() => {
      if (this.#reading === done) this.#reading = undefined
    })
    return sent
  }
}

/** The data with every Blob in it read into a Uint8Array; undefined when it holds none (no promise then). */
export function readBlobs(value: unknown): Promise<unknown> | undefined {
  return typeof Blob !== 'undefined' && hasBlob(value, 0) ? read(value) : undefined
}

function hasBlob(value: unknown, depth: number): boolean {
  if (value instanceof Blob) return true
  if (typeof value !== 'object' || value === null || depth > 32 || ArrayBuffer.isView(value)) return false
  for (const key in value) if (hasBlob((value as Record<string, unknown>)[key], depth + 1)) return true
  return false
}

async function read(value: unknown): Promise<unknown> {
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer())
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  if (Array.isArray(value)) return Promise.all(value.map(read))
  const out: Record<string, unknown> = {}
  for (const key in value) out[key] = await read((value as Record<string, unknown>)[key])
  return out
}
