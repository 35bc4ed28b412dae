/**
 * Payloads beyond JSON on a real server (issue 14): bytes published by `sb.publish` and by a
 * MessagePack client reach subscribers on every codec and transport as the same bytes — `bin` for
 * MessagePack, `{ "$bin": base64 }` for JSON text, SSE and long-polling — and history gives them
 * back; the subprotocol picks the codec; data no codec can carry is refused before anything is
 * published, so history is never poisoned.
 */
import { encode as msgpackEncode } from '@msgpack/msgpack'
import type { ServerFrame } from '@switchboard/protocol'
import { msgpackCodec } from '@switchboard/protocol/msgpack'
import { SwitchboardError } from '@switchboard/server'
import { FrameLog, httpBase, PollClient, SseClient, serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const { setup, onCleanup } = serverFixture({ channels: { 'bin:*': { history: 50, clientPublish: true } } })

/** A raw `ws` client speaking `switchboard.v1.msgpack`: frames decoded with the MessagePack codec. */
class PackedSocket extends FrameLog<ServerFrame> {
  readonly texts: string[] = []
  constructor(readonly ws: WebSocket) {
    super()
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.texts.push(String(data))
      else this.push(msgpackCodec.decode(data as Buffer, 'server') as ServerFrame)
    })
    ws.on('close', (code, reason) => this.markClosed({ code, reason: reason.toString() }))
    ws.on('error', () => {})
  }

  send(frame: object): void {
    this.ws.send(msgpackCodec.encode(frame as never))
  }

  static async open(url: string, protocols: string | string[] = 'switchboard.v1.msgpack') {
    const client = new PackedSocket(new WebSocket(url, protocols))
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve())
      client.ws.once('error', reject)
    })
    onCleanup(() => client.ws.terminate())
    await client.next('hello')
    return client
  }
}

const bytes = (...values: number[]) => new Uint8Array(values)

describe('bytes on every codec and transport', () => {
  it('reach MessagePack, JSON, SSE and long-polling subscribers as the same bytes, and history keeps them', async () => {
    const { sb, url, client } = await setup()
    const packed = await PackedSocket.open(url)
    const json = await client()
    const sse = await SseClient.open(httpBase(url))
    const poll = await PollClient.open(httpBase(url))
    onCleanup(() => sse.dispose())
    onCleanup(() => poll.dispose())
    poll.start()
    packed.send({ type: 'subscribe', id: 's', channel: 'bin:1' })
    json.send({ type: 'subscribe', id: 's', channel: 'bin:1' })
    await sse.send({ type: 'subscribe', id: 's', channel: 'bin:1' })
    await poll.send({ type: 'subscribe', id: 's', channel: 'bin:1' })
    await packed.next('reply')
    await json.next('reply')
    await sse.next('reply')
    await poll.next('reply')

    // From the server (a Buffer), then from the MessagePack client (bin inside an object).
    await sb.publish('bin:1', Buffer.from([0, 1, 254, 255]))
    packed.send({ type: 'publish', id: 'p', channel: 'bin:1', data: { name: 'x', file: bytes(7, 8, 9) } })
    await packed.next('reply')

    const messages = async (log: { frames: ReadonlyArray<{ type: string }> }) => {
      const found = () =>
        log.frames.filter((f) => f.type === 'message') as unknown as Array<{ data: unknown }>
      await until(() => found().length === 2)
      return found().map((f) => f.data)
    }
    expect(await messages(packed)).toEqual([bytes(0, 1, 254, 255), { name: 'x', file: bytes(7, 8, 9) }])
    const asText = [{ $bin: 'AAH+/w==' }, { name: 'x', file: { $bin: 'BwgJ' } }]
    expect(await messages(json)).toEqual(asText)
    expect(await messages(sse)).toEqual(asText)
    expect(await messages(poll)).toEqual(asText)

    // $history over MessagePack gives the bytes back as bin.
    packed.send({ type: 'request', id: 'h', event: '$history', data: { channel: 'bin:1' } })
    const history = (await packed.next('reply', (f) => f.id === 'h')) as unknown as {
      data: { messages: unknown[] }
    }
    expect(history.data.messages.map((m) => (m as { data: unknown }).data)).toEqual([
      bytes(0, 1, 254, 255),
      { name: 'x', file: bytes(7, 8, 9) },
    ])
  })

  it('a JSON client publishes bytes in the $bin form and a MessagePack subscriber gets bin', async () => {
    const { url, client } = await setup()
    const packed = await PackedSocket.open(url)
    packed.send({ type: 'subscribe', id: 's', channel: 'bin:2' })
    await packed.next('reply')
    const json = await client()
    json.send('{"type":"publish","id":"p","channel":"bin:2","data":{"$bin":"AQID"}}')
    expect(await json.next('reply')).toMatchObject({ ok: true })
    expect(await packed.next('message')).toMatchObject({ data: bytes(1, 2, 3) })
  })
})

describe('the subprotocol picks the codec', () => {
  it.each([
    [['switchboard.v1.msgpack', 'switchboard.v1'], 'switchboard.v1.msgpack'],
    [['switchboard.v1', 'switchboard.v1.msgpack'], 'switchboard.v1'],
  ])('offered %j, it answers the first it speaks', async (offered, chosen) => {
    const { url } = await setup()
    const ws = new WebSocket(url, offered)
    onCleanup(() => ws.terminate())
    const first = await new Promise<{ data: WebSocket.RawData; isBinary: boolean }>((resolve, reject) => {
      ws.once('message', (data, isBinary) => resolve({ data, isBinary }))
      ws.once('error', reject)
    })
    expect(ws.protocol).toBe(chosen)
    expect(first.isBinary).toBe(chosen.endsWith('msgpack'))
  })

  it('a MessagePack connection that sends text, or bad MessagePack, is told so', async () => {
    const { url } = await setup()
    const packed = await PackedSocket.open(url)
    packed.ws.send(Buffer.from([0xc1]))
    expect(await packed.next('error')).toMatchObject({ code: 'invalid_json' })
    // A timestamp is an extension type: no extension is part of v1, so it is unreadable.
    packed.ws.send(msgpackEncode({ type: 'publish', id: 'p', channel: 'bin:3', data: new Date(0) }))
    expect(await packed.next('error')).toMatchObject({ code: 'invalid_json' })
    packed.ws.send('{"type":"ping"}')
    expect((await packed.closed).code).toBe(1003)
  })
})

describe('limits that hold on the way back too', () => {
  it('data nested exactly as deep as allowed is published and read back from history', async () => {
    const { sb, client } = await setup()
    let deep: unknown = 'leaf'
    // 32 levels of objects: the most a publish may hold.
    for (let i = 0; i < 32; i++) deep = { d: deep }
    const c = await client()
    c.send({ type: 'publish', id: 'p', channel: 'bin:5', data: deep })
    expect(await c.next('reply')).toMatchObject({ ok: true })
    await sb.publish('bin:5', deep as never)
    c.send({ type: 'request', id: 'h', event: '$history', data: { channel: 'bin:5' } })
    const history = await c.next('reply', (f) => f.id === 'h')
    expect(history).toMatchObject({ ok: true })
    expect(
      (history as unknown as { data: { messages: Array<{ data: unknown }> } }).data.messages[0]!.data,
    ).toEqual(deep)
    // One level more is refused where it is given.
    c.send({ type: 'publish', id: 'p2', channel: 'bin:5', data: { d: deep } })
    expect(await c.next('error', (f) => f.id === 'p2')).toMatchObject({ code: 'invalid_frame' })
    await expect(sb.publish('bin:5', { d: deep } as never)).rejects.toMatchObject({ code: 'invalid_payload' })
  })

  it('NaN and Infinity from MessagePack are refused in any frame, requests too', async () => {
    const { sb, url } = await setup()
    let ran = false
    sb.handle('echo', (_conn, data) => {
      ran = true
      return data
    })
    const packed = await PackedSocket.open(url)
    packed.ws.send(msgpackEncode({ type: 'request', id: 'r', event: 'echo', data: { n: Number.NaN } }))
    expect(await packed.next('error')).toMatchObject({ code: 'invalid_payload', id: 'r' })
    packed.ws.send(
      msgpackEncode({ type: 'publish', id: 'p', channel: 'bin:6', data: [Number.POSITIVE_INFINITY] }),
    )
    expect(await packed.next('error')).toMatchObject({ code: 'invalid_payload', id: 'p' })
    expect(ran).toBe(false)
  })
})

describe('data no codec can carry is refused before it is published', () => {
  it.each([
    ['a BigInt', { n: 10n }],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['a Date', new Date(0)],
    ['a function', { f: () => 1 }],
    ['undefined in an array', [undefined]],
    ['NaN', Number.NaN],
  ])('sb.publish of %s rejects with invalid_payload and takes no offset', async (_, data) => {
    const { sb, client } = await setup()
    await expect(sb.publish('bin:4', data as never)).rejects.toMatchObject({ code: 'invalid_payload' })
    // History still reads (it was never poisoned) and the next publish is the first offset.
    const result = await sb.publish('bin:4', 'ok')
    expect(result.offset).toBe(1)
    const c = await client()
    c.send({ type: 'request', id: 'h', event: '$history', data: { channel: 'bin:4' } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { messages: [{ data: 'ok' }] } })
  })

  it('conn.send throws invalid_payload, and a handler reply that cannot be sent answers internal', async () => {
    const { sb, client } = await setup()
    sb.handle('bad', () => ({ n: 10n }) as never)
    let thrown: unknown
    sb.on('connection', (conn) => {
      try {
        conn.send('x', { m: new Map() } as never)
      } catch (err) {
        thrown = err
      }
    })
    const c = await client()
    c.send({ type: 'request', id: 'r', event: 'bad' })
    expect(await c.next('reply')).toMatchObject({ ok: false, error: { code: 'internal' } })
    expect(thrown).toBeInstanceOf(SwitchboardError)
    expect((thrown as SwitchboardError).code).toBe('invalid_payload')
  })
})

describe('a channel’s maxDataBytes, on every path', () => {
  const limited = { 'small:*': { history: 10, clientPublish: true, maxDataBytes: 16 } }

  it('refuses a bigger publication from a client, from sb.publish and from the HTTP API, and takes no offset', async () => {
    const key = 'api-key-0123456789abcdef'
    const { sb, url, client } = await setup({ channels: limited, httpApi: { keys: [{ key }] } })
    const c = await client()
    // {"t":"0123456789"} is 18 bytes of JSON text.
    c.send({ type: 'publish', id: 'p1', channel: 'small:1', data: { t: '0123456789' } })
    expect(await c.next('reply')).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload', message: 'data is 18 bytes; "small:1" takes at most 16' },
    })
    await expect(sb.publish('small:1', { t: '0123456789' })).rejects.toMatchObject({
      code: 'invalid_payload',
    })
    const api = await fetch(`${new URL(httpBase(url)).origin}/api/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'small:1', data: { t: '0123456789' } }),
    })
    expect(api.status).toBe(400)
    expect(await api.json()).toMatchObject({ error: { code: 'invalid_payload' } })
    // Within the bound it lands, and it is the channel's first offset: nothing refused took one.
    c.send({ type: 'publish', id: 'p2', channel: 'small:1', data: { t: '01234567' } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { offset: 1 } })
    // Other channels are not bounded.
    await expect(sb.publish('other', 'x'.repeat(1000))).resolves.toMatchObject({ offset: 1 })
  })

  it('counts bytes as their length, not their base64, on both codecs', async () => {
    const { url } = await setup({ channels: limited })
    const packed = await PackedSocket.open(url)
    packed.send({ type: 'publish', id: 'a', channel: 'small:2', data: new Uint8Array(16) })
    expect(await packed.next('reply')).toMatchObject({ ok: true })
    packed.send({ type: 'publish', id: 'b', channel: 'small:2', data: new Uint8Array(17) })
    expect(await packed.next('reply')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } })
  })
})
