// Admission releases what it holds: a per-IP slot taken for a handshake is given back whenever no
// connection results — an upgrade `ws` refuses after admission, a client that sends its upgrade
// and hangs up while authentication is still running — and the refusal is counted. With a cap of
// one, a leaked slot would lock the address out for good (429 for everyone behind it).
import net from 'node:net'
import { jwtAuth } from '@switchboard/server/jwt'
import { serverFixture } from '@switchboard/testing'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { RawClient } from './raw-websocket.js'

const { setup } = serverFixture()

async function statusOf(port: number, request: string): Promise<number> {
  const raw = await RawClient.open(port, request)
  const status = await raw.status()
  raw.socket.destroy()
  return status
}

describe('admission slots', () => {
  it('a repeated subprotocol is refused with 400 and leaves the address its slot', async () => {
    const server = await setup({ maxConnectionsPerIp: 1 })
    const twice = RawClient.handshake('/ws', { 'Sec-WebSocket-Protocol': 'switchboard.v1, switchboard.v1' })
    expect(await statusOf(server.port, twice)).toBe(400)
    expect(server.sb.stats().handshakesRefused).toBe(1)
    expect(await statusOf(server.port, RawClient.handshake('/ws'))).toBe(101)
  })

  it('an upgrade followed at once by FIN, during an async authentication, gives its slot back', async () => {
    const server = await setup({
      maxConnectionsPerIp: 1,
      authenticate: async () => {
        await new Promise((r) => setTimeout(r, 50))
        return {}
      },
    })
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(server.port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.end(RawClient.handshake('/ws'))
      // Past the authentication: the server has decided what to do with the half-closed socket.
      await new Promise((r) => setTimeout(r, 150))
      socket.destroy()
    }
    await new Promise((r) => setTimeout(r, 50))
    expect(await statusOf(server.port, RawClient.handshake('/ws'))).toBe(101)
    expect(server.sb.stats().handshakesRefused).toBe(3)
  })

  it('on a JWT server, an upgrade with a token followed at once by FIN gives its slot back', async () => {
    const secret = 'a-secret-of-at-least-32-bytes-for-hs256!'
    const server = await setup({ maxConnectionsPerIp: 1, ...jwtAuth({ secret }) })
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret))
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(server.port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.end(RawClient.handshake(`/ws?token=${token}`))
      await new Promise((r) => setTimeout(r, 100))
      socket.destroy()
    }
    await new Promise((r) => setTimeout(r, 50))
    expect(await statusOf(server.port, RawClient.handshake(`/ws?token=${token}`))).toBe(101)
  })
})
