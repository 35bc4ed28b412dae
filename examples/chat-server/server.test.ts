// The tutorial's chat server behaviours, over real WebSockets, against the Switchboard version.
import type { Switchboard } from '@switchboard/server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ChatTutorial, createChatServer } from './server.js'

type Frame = { type: string; [key: string]: unknown }

interface Client {
  ws: WebSocket
  frames: Frame[]
  next(match: (f: Frame) => boolean): Promise<Frame>
  send(frame: unknown): void
}

let sb: Switchboard<ChatTutorial>
let url: string

beforeEach(async () => {
  sb = createChatServer({ port: 0, host: '127.0.0.1', logger: false })
  url = (await sb.ready).url
})
afterEach(() => sb.close({ timeout: 500 }))

async function join(): Promise<Client> {
  const ws = new WebSocket(url, 'switchboard.v1')
  const frames: Frame[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (d) => {
    frames.push(JSON.parse(String(d)))
    for (const w of waiters) w()
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const next = (match: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not received; got ${JSON.stringify(frames)}`)), 5000)
      const look = () => {
        const i = frames.findIndex(match)
        if (i === -1) return
        waiters.delete(look)
        clearTimeout(timer)
        resolve(frames.splice(i, 1)[0]!)
      }
      waiters.add(look)
      look()
    })
  const client = {
    ws,
    frames,
    next,
    send: (f: unknown) => ws.send(typeof f === 'string' ? f : JSON.stringify(f)),
  }
  // Joined once welcomed and in the room.
  await next((f) => f.type === 'event' && f.event === 'welcome')
  return client
}

const chatMessage = (f: Frame) => f.type === 'message' && (f.data as { type: string }).type === 'chat'

describe('tutorial chat server on Switchboard', () => {
  it('welcomes each client with its id', async () => {
    const c = await join()
    const hello = c.frames.find((f) => f.type === 'hello') ?? (await c.next((f) => f.type === 'hello'))
    const ids = [...sb.connections.keys()]
    expect(ids).toContain(hello.connectionId)
  })

  it('broadcasts chat to the others, not back to the sender', async () => {
    const alice = await join()
    const bob = await join()
    const carol = await join()
    alice.send({ type: 'request', id: '1', event: 'chat', data: { text: 'hello all' } })
    expect(await alice.next((f) => f.type === 'reply')).toMatchObject({ ok: true, data: { status: 'sent' } })
    for (const other of [bob, carol]) {
      const m = await other.next(chatMessage)
      expect(m).toMatchObject({ channel: 'chat', data: { type: 'chat', text: 'hello all' } })
      expect(typeof (m.data as { timestamp: number }).timestamp).toBe('number')
    }
    await new Promise((r) => setTimeout(r, 50))
    expect(alice.frames.some(chatMessage)).toBe(false)
  })

  it('answers ping with pong', async () => {
    const c = await join()
    c.send({ type: 'ping', id: 'p' })
    expect(await c.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'p' })
  })

  it('says so for an unknown message type', async () => {
    const c = await join()
    c.send({ type: 'shout', text: 'HI' })
    const e = await c.next((f) => f.type === 'error')
    expect(e).toMatchObject({ code: 'unknown_type' })
    expect(e.message).toMatch(/unknown frame type/)
  })

  it('says so for invalid JSON', async () => {
    const c = await join()
    c.send('{not json')
    expect(await c.next((f) => f.type === 'error')).toMatchObject({
      code: 'invalid_json',
      message: 'frame is not valid JSON',
    })
  })

  it('refuses an empty chat message with invalid_payload', async () => {
    const c = await join()
    c.send({ type: 'request', id: '1', event: 'chat', data: { text: '' } })
    expect(await c.next((f) => f.type === 'reply')).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    })
  })

  it('tells the others when someone leaves', async () => {
    const alice = await join()
    const bob = await join()
    const bobId = [...sb.connections.keys()].at(-1)
    bob.ws.close()
    const m = await alice.next((f) => f.type === 'message' && (f.data as { type: string }).type === 'system')
    expect(m.data).toEqual({ type: 'system', message: `User ${bobId} left the chat` })
  })
})
