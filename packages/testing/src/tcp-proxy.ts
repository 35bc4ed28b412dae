/**
 * A TCP proxy in front of a test server, standing in for the network: it can refuse or hold
 * WebSocket upgrades (as corporate proxies do), cut every connection at once (a network drop),
 * stall them (a network gone dark: bytes dropped, nothing closed),
 * and it records the HTTP request lines it forwards, so a test can see which transport a client
 * used.
 */
import net from 'node:net'

export interface TcpProxy {
  /** `ws://127.0.0.1:<proxy port>/ws` for a server path of `/ws`. */
  url: string
  /** `METHOD path` of every request seen (a reused keep-alive connection included). */
  requests: string[]
  /** Refuse requests with `Upgrade: websocket` with 502, as a proxy that does not pass them. */
  blockWebSocket: boolean
  /** Hold requests with `Upgrade: websocket` unanswered, as a proxy that buffers them. */
  holdWebSocket: boolean
  /**
   * Drops every byte in both directions while true, leaving the connections open: a network gone
   * dark without a word (neither end sees a close until its own liveness check says so).
   */
  stall: boolean
  /** Destroys every open connection through the proxy. */
  cutAll(): void
  close(): Promise<void>
}

const REQUEST_LINE = /^(GET|POST|DELETE|OPTIONS) (\S+) HTTP\/1\.1\r?$/gm

export async function startProxy(targetPort: number, path = '/ws'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  const proxy: TcpProxy = {
    url: '',
    requests: [],
    blockWebSocket: false,
    holdWebSocket: false,
    stall: false,
    cutAll() {
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    close: () =>
      new Promise((resolve) => {
        proxy.cutAll()
        server.close(() => resolve())
      }),
  }
  const track = (s: net.Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const server = net.createServer((client) => {
    track(client)
    let upstream: net.Socket | undefined
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('latin1')
      for (const m of text.matchAll(REQUEST_LINE)) proxy.requests.push(`${m[1]} ${m[2]}`)
      if (proxy.stall) return
      if (upstream) {
        upstream.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      if (!head.includes('\r\n\r\n')) return
      const upgrade = /^upgrade:\s*websocket/im.test(head.toString('latin1'))
      if (upgrade && proxy.holdWebSocket) return
      if (upgrade && proxy.blockWebSocket) {
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        return
      }
      upstream = net.connect(targetPort, '127.0.0.1')
      track(upstream)
      upstream.write(head)
      upstream.on('data', (chunk: Buffer) => {
        if (!proxy.stall) client.write(chunk)
      })
      upstream.on('close', () => client.destroy())
      client.on('close', () => upstream?.destroy())
    }
    client.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}${path}`
  return proxy
}
