/**
 * Reads one of the API's Server-Sent Events streams with `fetch` — so the session goes in the
 * `Authorization` header, never in a URL, which `EventSource` would require — and calls `onEvent`
 * with each event's name and parsed data. Reconnects after a dropped stream (1 s, then up to 10 s);
 * a 401 or 403 ends it for good. Returns a function that stops it.
 */
export interface StreamHandlers {
  onEvent(event: string, data: unknown): void
  /** Connected (true) or not (false): the dashboard shows it. */
  onState?(live: boolean): void
  /** The server refused the credential (401, 403). */
  onRefused?(status: number): void
}

export function openEventStream(url: string, bearer: string, handlers: StreamHandlers): () => void {
  const abort = new AbortController()
  let retry = 1000
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` }, signal: abort.signal })
        if (res.status === 401 || res.status === 403) {
          handlers.onRefused?.(res.status)
          return
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
        handlers.onState?.(true)
        retry = 1000
        await readEvents(res.body, handlers.onEvent)
      } catch {
        if (abort.signal.aborted) return
      }
      handlers.onState?.(false)
      await new Promise((resolve) => setTimeout(resolve, retry))
      retry = Math.min(retry * 2, 10_000)
    }
  }
  void run()
  return () => abort.abort()
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: StreamHandlers['onEvent'],
): Promise<void> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    let end = buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      let data = ''
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data += line.slice(6)
      }
      if (data !== '') onEvent(event, JSON.parse(data))
      end = buffer.indexOf('\n\n')
    }
  }
}
