/**
 * Blobs in data (a browser's `File` from an `<input>`, say) are read into bytes before a frame is
 * made — a frame is encoded at once, a Blob only reads asynchronously.
 */

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
