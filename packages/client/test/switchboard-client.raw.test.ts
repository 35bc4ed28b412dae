/**
 * SwitchboardClient against a hand-written server on a plain `ws` WebSocketServer that sends
 * hand-built frames: the subprotocol offered, liveness when the server goes silent, and the
 * client's own close with a URL list.
 */
import type { AddressInfo } from 'node:net'
import { type StateChange, SwitchboardClient } from '@switchboard/client'
import { afterEach, describe, expect, it } from 'vitest'
import { type WebSocket, WebSocketServer } from 'ws'

const hello = (heartbeat: number) =>
  JSON.stringify({
    type: 'hello',
    version: 1,
    connectionId: 'raw',
    heartbeat,
    limits: { maxPayload: 65_536, maxSubscriptions: 256 },
  })

const servers: WebSocketServer[] = []
const clients: SwitchboardClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(
    servers.splice(0).map((s) => {
      for (const ws of s.clients) ws.terminate()
      return new Promise((resolve) => s.close(resolve))
    }),
  )
})

function rawServer(onConnection: (ws: WebSocket) => void): Promise<{ url: string; wss: WebSocketServer }> {
  return new Promise((resolve) => {
    const wss: WebSocketServer = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () =>
      resolve({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, wss }),
    )
    servers.push(wss)
    wss.on('connection', onConnection)
  })
}

describe('SwitchboardClient with a hand-written server', () => {
  it('offers switchboard.v1 and reconnects when the server goes silent past heartbeat + margin', async () => {
    const protocols: string[] = []
    const { url } = await rawServer((ws) => {
      protocols.push(ws.protocol)
      ws.send(hello(100)) // then silence: pings go unanswered
    })
    const client = new SwitchboardClient(url, { heartbeatMargin: 100, backoff: () => 10 })
    clients.push(client)
    const states: StateChange[] = []
    client.on('state', (s) => states.push(s))
    await expect
      .poll(() => states.find((s) => s.reason === 'heartbeat_timeout'), { timeout: 3_000 })
      .toMatchObject({ oldState: 'connected', newState: 'reconnecting', closeCode: 4102 })
    await expect.poll(() => protocols.length).toBeGreaterThanOrEqual(2)
    expect(protocols[0]).toBe('switchboard.v1')
  })

  it('stays connected while the server answers pings', async () => {
    const { url } = await rawServer((ws) => {
      ws.send(hello(50))
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: string }
        if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }))
      })
    })
    const client = new SwitchboardClient(url, { heartbeatMargin: 100 })
    clients.push(client)
    const states: StateChange[] = []
    client.on('state', (s) => states.push(s))
    await expect.poll(() => client.state).toBe('connected')
    await new Promise((r) => setTimeout(r, 500))
    expect(client.state).toBe('connected')
    expect(states.map((s) => s.newState)).toEqual(['connected'])
  })

  it('moves on to the next URL when one is down', async () => {
    const dead = await rawServer(() => {})
    const deadUrl = `ws://127.0.0.1:${(dead.wss.address() as AddressInfo).port}`
    await new Promise((resolve) => {
      servers.splice(servers.indexOf(dead.wss), 1)
      dead.wss.close(resolve)
    })
    const { url } = await rawServer((ws) => ws.send(hello(25_000)))
    const client = new SwitchboardClient([deadUrl, url], { backoff: () => 10 })
    clients.push(client)
    await expect.poll(() => client.state).toBe('connected')
  })
})
