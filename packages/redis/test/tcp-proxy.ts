/**
 * A TCP proxy for fault tests: forwards every connection to a target, and can freeze the
 * connections that match — they stay open but nothing passes either way, like a peer behind a
 * dead NAT entry. Only loopback addresses.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

interface Pipe {
  client: Socket
  server: Socket
  /** The start of what the client sent (bounded), for matching. */
  sent: string
  frozen: boolean
}

export class TcpProxy {
  private readonly pipes = new Set<Pipe>()
  private readonly listener: Server
  private port = 0
  /** Every connection, open or future, is frozen. */
  private blackhole = false

  private constructor(private readonly targetPort: number) {
    this.listener = createServer((client) => this.pipe(client))
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort)
    await new Promise<void>((resolve) => proxy.listener.listen(0, '127.0.0.1', resolve))
    proxy.port = (proxy.listener.address() as { port: number }).port
    return proxy
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Freezes the open connections whose client sent `text`; returns how many. */
  freeze(text: string): number {
    let n = 0
    for (const pipe of this.pipes) {
      if (pipe.sent.toLowerCase().includes(text.toLowerCase())) {
        pipe.frozen = true
        n++
      }
    }
    return n
  }

  /** Freezes every open connection and every one made from now on. */
  freezeAll(): void {
    this.blackhole = true
    for (const pipe of this.pipes) pipe.frozen = true
  }

  close(): Promise<void> {
    for (const pipe of this.pipes) {
      pipe.client.destroy()
      pipe.server.destroy()
    }
    return new Promise((resolve) => this.listener.close(() => resolve()))
  }

  private pipe(client: Socket): void {
    const server = connect(this.targetPort, '127.0.0.1')
    const pipe: Pipe = { client, server, sent: '', frozen: this.blackhole }
    this.pipes.add(pipe)
    client.on('data', (d) => {
      if (pipe.frozen) return
      if (pipe.sent.length < 4096) pipe.sent += d.toString('latin1')
      server.write(d)
    })
    server.on('data', (d) => {
      if (!pipe.frozen) client.write(d)
    })
    const end = () => {
      this.pipes.delete(pipe)
      client.destroy()
      server.destroy()
    }
    for (const socket of [client, server]) {
      socket.on('close', end)
      socket.on('error', end)
    }
  }
}
