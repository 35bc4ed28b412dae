/**
 * `connectTimeout` bounds one connection attempt as a whole — the socket opening and the
 * Switchboard handshake (`hello`) together — not each of them in turn: against a server that
 * completes the WebSocket upgrade after 1.2 s and then never says hello, a 1.5 s connectTimeout
 * gives up at 1.5 s, not at 2.7 s.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SwitchboardClient } from '@switchboard/client'
import { SUBPROTOCOL } from '@switchboard/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

async function slowSilentServer(upgradeAfterMs: number): Promise<string> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => SUBPROTOCOL })
  const server: Server = createServer()
  server.on('upgrade', (req, socket, head) => {
    setTimeout(() => wss.handleUpgrade(req, socket, head, () => {}), upgradeAfterMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => {
    for (const ws of wss.clients) ws.terminate()
    wss.close()
    server.close()
    server.closeAllConnections()
  })
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
}

describe('connectTimeout', () => {
  it('bounds the socket opening and the handshake together', async () => {
    const url = await slowSilentServer(1200)
    const started = Date.now()
    const client = new SwitchboardClient(url, {
      WebSocket: WebSocket as never,
      connectTimeout: 1500,
      backoff: () => 60_000,
    })
    cleanups.push(() => client.close())
    const gaveUp = await new Promise<number>((resolve) =>
      client.on('state', ({ newState }) => {
        if (newState === 'reconnecting') resolve(Date.now() - started)
      }),
    )
    expect(gaveUp).toBeGreaterThanOrEqual(1400)
    expect(gaveUp).toBeLessThan(2100)
  })
})
