/**
 * Reads a Server-Sent Events stream over fetch, as the dashboard does (a bearer header, which
 * EventSource cannot send): every event kept in order, `next(name)` waits for the next unread one
 * of that name.
 */
import { expect } from 'vitest'

export interface SseEvent {
  event: string
  data: unknown
}

export class SseReader {
  readonly events: SseEvent[] = []
  private read = 0
  private readonly abort = new AbortController()
  status = 0

  private constructor() {}

  static async open(url: string, key: string): Promise<SseReader> {
    const reader = new SseReader()
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: reader.abort.signal })
    reader.status = res.status
    if (res.ok && res.body) void reader.pump(res.body)
    else await res.body?.cancel()
    return reader
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event !== undefined && data !== undefined) this.events.push({ event, data: JSON.parse(data) })
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // Aborted.
    }
  }

  /** The next unread event named `name` (events of other names before it are skipped). */
  async next<T>(name: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.events.findIndex((e, i) => i >= this.read && e.event === name)
      if (index !== -1) {
        this.read = index + 1
        return this.events[index]!.data as T
      }
      expect(Date.now(), `no "${name}" event within ${timeoutMs} ms`).toBeLessThan(deadline)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  close(): void {
    this.abort.abort()
  }
}
