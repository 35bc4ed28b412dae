// WsTransport's send bound, on a socket that never drains (a peer that stopped reading): the
// bound is in bytes of UTF-8, for lone frames and channel batches alike, so non-ASCII traffic is
// cut at the same bound as ASCII. A unit test of this module with stand-ins for ws and the socket.
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { OutgoingBatch, OutgoingFrame } from './transport.js'
import { WsTransport } from './ws-transport.js'

/** A socket whose written bytes stay unsent, and a ws that records how it was closed. */
function stalledPeer() {
  const socket = {
    writableLength: 0,
    write(b: Buffer): boolean {
      socket.writableLength += b.length
      return true
    },
  }
  const closes: number[] = []
  const ws = Object.assign(new EventEmitter(), {
    readyState: WebSocket.OPEN,
    close: (code: number) => closes.push(code),
    terminate: () => {},
    ping: () => {},
  })
  const transport = new WsTransport(ws as unknown as WebSocket, socket as unknown as Duplex, {
    maxBufferedBytes: 5000,
    closeTimeoutMs: 100,
  })
  return { transport, socket, closes }
}

const euro = (n: number) => new OutgoingFrame(JSON.stringify('€'.repeat(n)))

describe('WsTransport send bound', () => {
  it('counts frames and batches in UTF-8 bytes', () => {
    const frame = euro(1000)
    expect(frame.byteLength).toBe(3002)
    const batch = new OutgoingBatch(frame)
    batch.append(euro(10))
    expect(batch.byteLength).toBe(3002 + 32)
  })

  it('cuts a stalled peer with 4100 once non-ASCII bytes pass the bound', () => {
    // 2 × 3,002 bytes pass 5,000; counted in characters (2 × 1,002) they would not.
    const { transport, socket, closes } = stalledPeer()
    expect(transport.sendBatch(new OutgoingBatch(euro(1000)))).toBe(true)
    expect(transport.send(euro(1000))).toBe(false)
    expect(closes).toEqual([4100])
    expect(socket.writableLength).toBeLessThanOrEqual(5000 + 3002 + 8)
    expect(transport.state).toBe('closing')
  })

  it('keeps an ASCII stream of the same length in characters under the bound', () => {
    const { transport, closes } = stalledPeer()
    const ascii = () => new OutgoingFrame(JSON.stringify('x'.repeat(1000)))
    expect(transport.sendBatch(new OutgoingBatch(ascii()))).toBe(true)
    expect(transport.send(ascii())).toBe(true)
    expect(closes).toEqual([])
    transport.terminate(1006, 'test over')
  })
})
