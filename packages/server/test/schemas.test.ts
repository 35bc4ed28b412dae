/**
 * One schema on every path (issue 14, item 5): channel validators check a client's publish frame
 * and `sb.publish` alike, event validators check `conn.send` and `sb.sendTo`, request validators
 * come from the same `schemas` object, a transform's output is what is delivered — once — and the
 * event map's types come from the same definitions. With zod and with valibot.
 */
import { defineSchemas, type InferEventMap } from '@switchboard/protocol'
import { type Connection, createSwitchboard, type Switchboard, SwitchboardError } from '@switchboard/server'
import { connect, until } from '@switchboard/testing'
import * as v from 'valibot'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'

let transforms = 0
const schemas = defineSchemas({
  requests: {
    'chat:send': {
      data: z.object({ room: z.string(), text: z.string().min(1) }),
      reply: z.object({ ok: z.boolean() }),
    },
  },
  events: {
    notice: v.pipe(
      v.object({ text: v.string() }),
      v.transform((n) => ({ ...n, text: n.text.toUpperCase() })),
    ),
  },
  channels: {
    'chat:*': z.object({ user: z.string(), text: z.string().max(20) }),
    // A transform that is not idempotent: applied twice it would show.
    'count:*': z.object({ n: z.number() }).transform((m) => {
      transforms++
      return { n: m.n + 1 }
    }),
  },
})
type App = InferEventMap<typeof schemas>

const servers: Switchboard<App>[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((sb) => sb.close({ timeout: 200 })))
})

async function start() {
  const sb = createSwitchboard<App>({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    schemas,
    channels: { 'chat:*': { clientPublish: true, history: 10 }, 'count:*': { clientPublish: true } },
  })
  servers.push(sb)
  return { sb, url: (await sb.ready).url }
}

describe('the event map comes from the schemas', () => {
  it('types requests, events and channel patterns', () => {
    expectTypeOf<App['requests']['chat:send']['data']>().toEqualTypeOf<{ room: string; text: string }>()
    expectTypeOf<App['requests']['chat:send']['reply']>().toEqualTypeOf<{ ok: boolean }>()
    expectTypeOf<App['events']['notice']>().toEqualTypeOf<{ text: string }>()
    expectTypeOf<App['channels'][`chat:${string}`]>().toEqualTypeOf<{ user: string; text: string }>()
  })
})

describe('channel schemas on every publishing path', () => {
  it('a client publish that fails is invalid_payload with the issues, and nothing is published', async () => {
    const { sb, url } = await start()
    const watcher = await connect(url)
    watcher.send({ type: 'subscribe', id: 's', channel: 'chat:1' })
    await watcher.next('reply')
    const c = await connect(url)
    c.send({ type: 'publish', id: 'bad', channel: 'chat:1', data: { user: 'a', text: 'x'.repeat(30) } })
    const refused = await c.next('reply')
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_payload' } })
    expect(JSON.stringify(refused)).toContain('"path":["text"]')
    c.send({ type: 'publish', id: 'good', channel: 'chat:1', data: { user: 'a', text: 'hi' } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { offset: 1 } })
    expect(await watcher.next('message')).toMatchObject({ offset: 1, data: { user: 'a', text: 'hi' } })
    await expect(sb.publish('chat:1', { user: 'a' } as never)).rejects.toMatchObject({
      code: 'invalid_payload',
    })
  })

  it('a transform runs once per publication, whatever the number of subscribers, on both paths', async () => {
    const { sb, url } = await start()
    const subscribers = await Promise.all([connect(url), connect(url), connect(url)])
    for (const s of subscribers) {
      s.send({ type: 'subscribe', id: 's', channel: 'count:1' })
      await s.next('reply')
    }
    transforms = 0
    await sb.publish('count:1', { n: 1 })
    subscribers[0]!.send({ type: 'publish', id: 'p', channel: 'count:1', data: { n: 10 } })
    await subscribers[0]!.next('reply', (f) => f.id === 'p')
    for (const s of subscribers) {
      await until(() => s.frames.filter((f) => f.type === 'message').length === 2)
      expect(s.frames.filter((f) => f.type === 'message').map((f) => (f as { data: unknown }).data)).toEqual([
        { n: 2 },
        { n: 11 },
      ])
    }
    expect(transforms).toBe(2)
  })
})

describe('event schemas', () => {
  it('conn.send sends what the schema gives and throws invalid_payload for what it refuses', async () => {
    const { sb, url } = await start()
    let refused: unknown
    sb.on('connection', (conn: Connection<App>) => {
      conn.send('notice', { text: 'hello' })
      try {
        conn.send('notice', { text: 3 } as never)
      } catch (err) {
        refused = err
      }
    })
    const c = await connect(url)
    expect(await c.next('event')).toMatchObject({ event: 'notice', data: { text: 'HELLO' } })
    expect(refused).toBeInstanceOf(SwitchboardError)
    expect((refused as SwitchboardError).code).toBe('invalid_payload')
  })

  it('sb.sendTo is checked too, and sb.event adds a schema', async () => {
    const { sb, url } = await start()
    const c = await connect(url)
    const id = [...sb.connections.keys()][0]!
    await expect(sb.sendTo(id, 'notice', { text: 1 } as never)).rejects.toMatchObject({
      code: 'invalid_payload',
    })
    expect(await sb.sendTo(id, 'notice', { text: 'x' })).toBe(true)
    expect(await c.next('event')).toMatchObject({ data: { text: 'X' } })
    expect(() => sb.event('notice', z.object({}) as never)).toThrow(TypeError)
  })
})

describe('a transform in a request schema', () => {
  it('types the handler with its output, and a reply schema is enforced (a bad reply is internal)', async () => {
    const local = defineSchemas({
      requests: {
        len: {
          data: z.object({ s: z.string().transform((s) => s.length) }),
          reply: z.object({ n: z.number() }),
        },
      },
    })
    type Local = InferEventMap<typeof local>
    expectTypeOf<Local['requests']['len']['data']>().toEqualTypeOf<{ s: string }>()
    expectTypeOf<Local['requests']['len']['handled']>().toEqualTypeOf<{ s: number }>()
    const errors: unknown[] = []
    const sb = createSwitchboard<Local>({
      port: 0,
      host: '127.0.0.1',
      logger: { info() {}, warn() {}, error: (_m, err) => errors.push(err) },
      schemas: local,
    })
    servers.push(sb as unknown as Switchboard<App>)
    let bad = false
    sb.handle('len', (_conn, data) => {
      const n: number = data.s
      return bad ? ({ n: 'many' } as never) : { n }
    })
    const c = await connect((await sb.ready).url)
    c.send({ type: 'request', id: 'a', event: 'len', data: { s: 'hello' } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { n: 5 } })
    bad = true
    c.send({ type: 'request', id: 'b', event: 'len', data: { s: 'x' } })
    expect(await c.next('reply', (f) => f.id === 'b')).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    })
    expect(errors).toHaveLength(1)
  })
})

describe('request schemas from the same object', () => {
  it('validate a handler registered without its own schema', async () => {
    const { sb, url } = await start()
    sb.handle('chat:send', (_conn, data) => ({ ok: data.text.length > 0 }))
    const c = await connect(url)
    c.send({ type: 'request', id: 'r1', event: 'chat:send', data: { room: 'a', text: '' } })
    expect(await c.next('reply')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } })
    c.send({ type: 'request', id: 'r2', event: 'chat:send', data: { room: 'a', text: 'hi' } })
    expect(await c.next('reply')).toMatchObject({ ok: true, data: { ok: true } })
  })
})
