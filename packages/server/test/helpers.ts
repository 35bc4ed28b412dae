/**
 * Test helpers: a server on port 0, a `ws` client that records every frame it gets, and a raw
 * TCP client that speaks hand-built WebSocket frames for the RFC 6455 tests.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import type { ServerFrame } from '@switchboard/protocol'
import { createSwitchboard, type Switchboard, type SwitchboardOptions } from '@switchboard/server'
import { afterEach } from 'vitest'
import WebSocket from 'ws'

export async function startServer<O extends SwitchboardOptions>(options: O = {} as O) {
  const sb = createSwitchboard({ port: 0, host: '127.0.0.1', logger: false, ...options })
  const address = await sb.ready
  return { sb: sb as Switchboard, ...address }
}

export interface TestClient {
  ws: WebSocket
  frames: ServerFrame[]
  /** Resolves with the next frame (after those already consumed) that matches. */
  next<T extends ServerFrame['type']>(
    type: T,
    where?: (f: Extract<ServerFrame, { type: T }>) => boolean,
  ): Promise<Extract<ServerFrame, { type: T }>>
  send(frame: unknown): void
  closed: Promise<{ code: number; reason: string }>
}

export async function connect(
  url: string,
  protocols: string | string[] = 'switchboard.v1',
): Promise<TestClient> {
  const ws = new WebSocket(url, protocols)
  const frames: ServerFrame[] = []
  const waiters: Array<() => void> = []
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as ServerFrame)
    for (const w of waiters.splice(0)) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
  const consumed = new Set<ServerFrame>()
  const client: TestClient = {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(type, where) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${type} frame; got ${JSON.stringify(frames)}`)),
          5000,
        )
        const look = () => {
          const found = frames.find(
            (f) =>
              !consumed.has(f) &&
              f.type === type &&
              (!where || where(f as Extract<ServerFrame, { type: typeof type }>)),
          )
          if (found) {
            consumed.add(found)
            clearTimeout(timer)
            resolve(found as Extract<ServerFrame, { type: typeof type }>)
          } else {
            waiters.push(look)
          }
        }
        look()
      })
    },
  }
  await client.next('hello')
  return client
}

/** A raw TCP WebSocket client: hand-built frames, and a parser for what the server sends back. */
export class RawClient {
  readonly socket: net.Socket
  private buffer = Buffer.alloc(0)
  readonly received: Array<{ opcode: number; payload: Buffer }> = []
  readonly ended: Promise<void>
  private handshakeDone = false
  response = ''

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on('error', () => {})
    this.ended = new Promise((resolve) => socket.on('close', () => resolve()))
    socket.on('data', (chunk) => this.onData(chunk))
  }

  /** Opens a TCP connection and sends `request` (or a valid handshake for `path`). */
  static async open(port: number, request?: string): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new RawClient(socket)
    socket.write(request ?? RawClient.handshake())
    return client
  }

  static handshake(path = '/ws', extra: Record<string, string> = {}): string {
    const headers: Record<string, string> = {
      Host: 'localhost',
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'switchboard.v1',
      ...extra,
    }
    const lines = Object.entries(headers)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}`)
    return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
  }

  /** Resolves once the HTTP answer is in; returns its status code. */
  async status(): Promise<number> {
    await until(() => this.response.includes('\r\n\r\n') || this.socket.destroyed)
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.response)?.[1] ?? 0)
  }

  /** Resolves with the close code of the server's close frame (0 if the socket just ended). */
  async closeCode(): Promise<number> {
    await Promise.race([until(() => this.received.some((f) => f.opcode === 8)), this.ended])
    const close = this.received.find((f) => f.opcode === 8)
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 0
  }

  texts(): unknown[] {
    return this.received.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()))
  }

  send(frame: Buffer): void {
    this.socket.write(frame)
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    if (!this.handshakeDone) {
      const end = this.buffer.indexOf('\r\n\r\n')
      if (end === -1) {
        this.response = this.buffer.toString('latin1')
        return
      }
      this.response = this.buffer.subarray(0, end + 4).toString('latin1')
      this.buffer = this.buffer.subarray(end + 4)
      this.handshakeDone = true
    }
    for (;;) {
      if (this.buffer.length < 2) return
      let len = this.buffer[1]! & 0x7f
      let offset = 2
      if (len === 126) {
        if (this.buffer.length < 4) return
        len = this.buffer.readUInt16BE(2)
        offset = 4
      } else if (len === 127) {
        if (this.buffer.length < 10) return
        len = Number(this.buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.buffer.length < offset + len) return
      this.received.push({
        opcode: this.buffer[0]! & 0x0f,
        payload: this.buffer.subarray(offset, offset + len),
      })
      this.buffer = this.buffer.subarray(offset + len)
    }
  }
}

export interface FrameSpec {
  opcode: number
  payload?: Buffer | string
  fin?: boolean
  rsv?: number
  mask?: boolean
}

/** Builds one client frame by hand (masked unless `mask: false`). */
export function frame({
  opcode,
  payload = Buffer.alloc(0),
  fin = true,
  rsv = 0,
  mask = true,
}: FrameSpec): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const header: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
  const m = mask ? 0x80 : 0
  if (data.length < 126) header.push(m | data.length)
  else if (data.length < 65536) header.push(m | 126, data.length >> 8, data.length & 0xff)
  else {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(BigInt(data.length))
    header.push(m | 127, ...b)
  }
  if (!mask) return Buffer.concat([Buffer.from(header), data])
  const key = randomBytes(4)
  const masked = Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!))
  return Buffer.concat([Buffer.from(header), key, masked])
}

export function closeFrame(code?: number, reason = ''): Buffer {
  if (code === undefined) return frame({ opcode: 8 })
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason))
  payload.writeUInt16BE(code, 0)
  payload.write(reason, 2)
  return frame({ opcode: 8, payload })
}

/** Polls `check` (sync or async) until it is true; fails naming `what` after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/**
 * A per-file fixture: `setup(options)` starts a server with the file's defaults and hands out
 * connected clients (`client(query?)`); everything it started — and whatever `onCleanup` was
 * given — is torn down after each test, newest first.
 */
export function serverFixture(defaults: SwitchboardOptions = {}) {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const onCleanup = (cleanup: () => unknown): void => {
    cleanups.push(cleanup)
  }
  async function setup(options: SwitchboardOptions = {}) {
    const server = await startServer({ ...defaults, ...options })
    onCleanup(() => server.sb.close({ timeout: 300 }))
    const client = async (query = '') => {
      const c = await connect(`${server.url}${query}`)
      onCleanup(() => c.ws.terminate())
      return c
    }
    return { ...server, client }
  }
  return { setup, onCleanup }
}
