/**
 * Bytes through the SDK against a real server (issue 14): every binary type a publish, request,
 * reply or event can hold comes back as the same bytes (a Uint8Array) over both codecs and all
 * three transports; Blobs are read before sending and keep their place in order; what no codec
 * can carry is refused at the call site with nothing left pending; and ReconnectingWebSocket hands
 * Blob and ArrayBuffer through unchanged, as a WebSocket does.
 */
import {
  type ClientCodec,
  ReconnectingWebSocket,
  SwitchboardClient,
  type TransportName,
} from '@switchboard/client'
import { msgpack } from '@switchboard/client/msgpack'
import { createSwitchboard, type Switchboard } from '@switchboard/server'
import { until } from '@switchboard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'

const servers: Switchboard[] = []
const clients: SwitchboardClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close({ flush: false })
  await Promise.all(servers.splice(0).map((sb) => sb.close({ timeout: 200 })))
})

async function start() {
  const sb = createSwitchboard({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    channels: { 'bin:*': { history: 100, clientPublish: true } },
  })
  sb.handle('echo', (_conn, data) => data)
  servers.push(sb)
  return { sb, url: (await sb.ready).url }
}

function client(url: string, transport: TransportName, codec?: ClientCodec) {
  const c = new SwitchboardClient(url, { transports: [transport], ...(codec ? { codec } : {}) })
  clients.push(c)
  return c
}

const bytes = (...values: number[]) => new Uint8Array(values)

const cases: Array<[string, TransportName, ClientCodec | undefined]> = [
  ['JSON over WebSocket', 'websocket', undefined],
  ['MessagePack over WebSocket', 'websocket', msgpack],
  ['SSE (JSON, even with the MessagePack codec)', 'sse', msgpack],
  ['long-polling', 'long-polling', undefined],
]

describe.each(cases)('bytes, %s', (_, transport, codec) => {
  it('publish, request, reply, event and history carry the same bytes', async () => {
    const { sb, url } = await start()
    const sender = client(url, transport, codec)
    // The subscriber speaks the other codec, so every pairing is crossed.
    const receiver = client(url, 'websocket', codec ? undefined : msgpack)
    const channel = receiver.channel('bin:a')
    const seen: unknown[] = []
    channel.on('publication', ({ data }) => seen.push(data))
    await until(() => channel.state === 'subscribed')

    const sent = [
      bytes(1, 2, 3),
      new Uint8Array([4, 5]).buffer,
      Buffer.from([6, 7]),
      { name: 'f', parts: [bytes(8), bytes()] },
    ]
    for (const data of sent) await sender.publish('bin:a', data as never)
    await until(() => seen.length === 4)
    const expected = [bytes(1, 2, 3), bytes(4, 5), bytes(6, 7), { name: 'f', parts: [bytes(8), bytes()] }]
    expect(seen).toEqual(expected)

    expect(await sender.request('echo', { blob: bytes(9, 9) } as never)).toEqual({ blob: bytes(9, 9) })
    const history = (await sender.request('$history', { channel: 'bin:a' } as never)) as {
      messages: Array<{ data: unknown }>
    }
    expect(history.messages.map((m) => m.data)).toEqual(expected)

    const events: unknown[] = []
    sender.onEvent('file', (data) => events.push(data))
    const id = sender.connectionId!
    await sb.sendTo(id, 'file', { bytes: Buffer.from([1, 0, 1]) })
    await until(() => events.length === 1)
    expect(events[0]).toEqual({ bytes: bytes(1, 0, 1) })
  })
})

describe('the codec', () => {
  it('a client with the MessagePack codec gets it on WebSocket, and JSON where the server offers only that', async () => {
    const { sb, url } = await start()
    const c = client(url, 'websocket', msgpack)
    await until(() => c.state === 'connected')
    const conn = sb.connections.get(c.connectionId!) as unknown as { packed: boolean }
    expect(conn.packed).toBe(true)
    const plain = client(url, 'websocket')
    await until(() => plain.state === 'connected')
    expect((sb.connections.get(plain.connectionId!) as unknown as { packed: boolean }).packed).toBe(false)
  })
})

describe('frame size is counted in the codec that carries it', () => {
  it('50 KB of bytes fits in MessagePack but not in JSON text (base64), and the error names no codec', async () => {
    const { url } = await start()
    const packed = client(url, 'websocket', msgpack)
    const plain = client(url, 'websocket')
    await until(() => packed.state === 'connected' && plain.state === 'connected')
    const big = { b: new Uint8Array(50_000) }
    expect(await packed.publish('bin:d', big)).toMatchObject({ offset: 1 })
    await expect(plain.publish('bin:d', big)).rejects.toMatchObject({ code: 'frame_too_large' })
    const refused = await packed.publish('bin:d', { n: 10n } as never).catch((err: Error) => err)
    expect(refused).toMatchObject({ code: 'invalid_payload', message: 'data.n cannot be sent: a bigint' })
  })
})

describe('Blobs', () => {
  it('are read before sending, and a publish after one keeps its place', async () => {
    const { url } = await start()
    const receiver = client(url, 'websocket')
    const channel = receiver.channel('bin:b')
    const seen: unknown[] = []
    channel.on('publication', ({ data }) => seen.push(data))
    await until(() => channel.state === 'subscribed')
    const sender = client(url, 'websocket', msgpack)
    const first = sender.publish('bin:b', { file: new Blob([bytes(1, 2)]) } as never)
    const second = sender.publish('bin:b', 'after')
    await Promise.all([first, second])
    await until(() => seen.length === 2)
    expect(seen).toEqual([{ file: bytes(1, 2) }, 'after'])
  })
})

describe('refused at the call site', () => {
  it.each([
    ['a BigInt', { n: 10n }],
    ['a Map', new Map()],
    ['a Date', { at: new Date(0) }],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {}
        o.o = o
        return o
      })(),
    ],
  ])('%s: invalid_payload, nothing sent, nothing pending', async (_, data) => {
    const { url } = await start()
    const c = client(url, 'websocket', msgpack)
    await until(() => c.state === 'connected')
    await expect(c.publish('bin:c', data as never, { timeout: 300 })).rejects.toMatchObject({
      code: 'invalid_payload',
    })
    await expect(c.request('echo', data as never, { timeout: 300 })).rejects.toMatchObject({
      code: 'invalid_payload',
    })
    // Still connected and usable: nothing was sent that the server refused.
    expect(await c.request('echo', 'ok')).toBe('ok')
  })
})

describe('ReconnectingWebSocket with binary data', () => {
  it('sends Blob and ArrayBuffer unchanged and hands binary messages over as the binaryType says', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((resolve) => wss.once('listening', resolve))
    const port = (wss.address() as { port: number }).port
    const received: Buffer[] = []
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        received.push(data as Buffer)
        // Echo binary back as binary, text as text.
        ws.send(data, { binary: isBinary })
      })
    })
    const got: unknown[] = []
    for (const binaryType of ['blob', 'arraybuffer'] as const) {
      const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { binaryType })
      rws.on('message', ({ data }) => got.push(data))
      await until(() => rws.state === 'open')
      rws.send(new Blob([bytes(1, 2)]))
      rws.send(bytes(3).buffer)
      rws.send('text')
      await until(() => got.length === 3)
      rws.close()
      const [blob, buffer, text] = got.splice(0)
      const type = binaryType === 'blob' ? Blob : ArrayBuffer
      expect(blob).toBeInstanceOf(type)
      expect(buffer).toBeInstanceOf(type)
      const read = async (x: unknown) =>
        new Uint8Array(x instanceof Blob ? await x.arrayBuffer() : (x as ArrayBuffer))
      expect(await read(blob)).toEqual(bytes(1, 2))
      expect(await read(buffer)).toEqual(bytes(3))
      expect(text).toBe('text')
    }
    expect(received.map((b) => [...b])).toEqual([
      [1, 2],
      [3],
      [...Buffer.from('text')],
      [1, 2],
      [3],
      [...Buffer.from('text')],
    ])
    await new Promise((resolve) => wss.close(resolve))
  })
})
