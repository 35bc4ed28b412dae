/**
 * A raw TCP WebSocket client for the RFC 6455 tests: it speaks hand-built frames (`frame`,
 * `closeFrame`) and parses what the server sends back, handshake answer included.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { until } from '@switchboard/testing'

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
