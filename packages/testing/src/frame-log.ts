/**
 * The record every test client keeps of what the server sent: frames in order (the HTTP
 * transports' `close` pseudo-frame included), `next()` to wait for the next one of a type, and
 * `closed`, which settles with the first close seen.
 */
import type { ServerFrame } from '@switchboard/protocol'

/** What a client may see: protocol frames and the transports' `close` pseudo-frame. */
export type SeenFrame = ServerFrame | { type: 'close'; code: number; reason: string }

/** How a connection ended, as its client saw it. */
export interface CloseInfo {
  code: number
  reason: string
}

/**
 * A log of frames of type `F`; by default what the HTTP transports' clients see. A `close`
 * pseudo-frame pushed into it settles `closed`.
 */
export class FrameLog<F extends { type: string } = SeenFrame> {
  readonly frames: F[] = []
  /** Settles with the first close: a `close` pseudo-frame, or what `markClosed` was told. */
  readonly closed: Promise<CloseInfo>
  private resolveClosed!: (info: CloseInfo) => void
  private readonly waiters = new Set<() => void>()
  private readonly consumed = new Set<F>()

  constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  push(frame: F): void {
    this.frames.push(frame)
    if (frame.type === 'close') this.markClosed(closeInfo(frame as unknown as CloseInfo))
    for (const w of [...this.waiters]) w()
  }

  /** Records the end of the connection (only the first call counts). */
  markClosed(info: CloseInfo): void {
    this.resolveClosed(info)
  }

  /** The next not yet consumed frame of this type (and matching `where`), waiting up to 5 s. */
  next<T extends F['type']>(
    type: T,
    where?: (f: Extract<F, { type: T }>) => boolean,
  ): Promise<Extract<F, { type: T }>> {
    return new Promise((resolve, reject) => {
      const look = (): void => {
        const found = this.frames.find(
          (f) => !this.consumed.has(f) && f.type === type && (!where || where(f as Extract<F, { type: T }>)),
        )
        if (!found) return
        this.consumed.add(found)
        this.waiters.delete(look)
        clearTimeout(timer)
        resolve(found as Extract<F, { type: T }>)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(look)
        reject(new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`))
      }, 5000)
      this.waiters.add(look)
      look()
    })
  }
}

function closeInfo({ code, reason }: CloseInfo): CloseInfo {
  return { code, reason }
}
