// @vitest-environment jsdom
// biome-ignore-all lint/correctness/noComponentHookFactories: test components close over each test's own variables.
/**
 * useWebSocket against a plain `ws` WebSocketServer: one connection under StrictMode, parsed
 * messages, JSON sends, callbacks that change identity without reconnecting, reconnect after the
 * server drops the socket, and a close on unmount.
 */
import { useWebSocket } from '@switchboard/react'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import { recordingWebSocket } from './helpers.js'

let wss: WebSocketServer
let url: string
const open = new Set<WsSocket>()
let accepted = 0

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const address = wss.address() as { port: number }
  url = `ws://127.0.0.1:${address.port}`
  wss.on('connection', (socket) => {
    accepted++
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    // Echo, and answer "json" with a JSON object.
    socket.on('message', (data) => {
      const text = String(data)
      socket.send(text === 'json' ? JSON.stringify({ kind: 'object', n: 1 }) : `echo:${text}`)
    })
  })
})
afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())))
afterEach(() => {
  cleanup()
  accepted = 0
})

describe('useWebSocket', () => {
  it('opens one connection under StrictMode, sends, parses, and closes on unmount', async () => {
    const log = recordingWebSocket()
    const messages: unknown[] = []
    let opened = 0
    let send: (data: unknown) => boolean = () => false
    function Feed() {
      const ws = useWebSocket(url, {
        WebSocket: log.WebSocket,
        onMessage: (data) => messages.push(data),
        onOpen: () => opened++,
      })
      send = ws.send
      return (
        <p data-testid="out">
          {ws.status} {JSON.stringify(ws.lastMessage)}
        </p>
      )
    }
    const view = render(
      <StrictMode>
        <Feed />
      </StrictMode>,
    )
    const out = () => view.getByTestId('out').textContent
    await waitFor(() => expect(out()).toBe('connected null'))
    expect(log.sockets).toHaveLength(1)
    expect(accepted).toBe(1)
    expect(opened).toBe(1)

    act(() => {
      send('json')
    })
    await waitFor(() => expect(out()).toBe('connected {"kind":"object","n":1}'))
    act(() => {
      send({ a: 1 })
    })
    await waitFor(() => expect(out()).toBe('connected "echo:{\\"a\\":1}"'))
    expect(messages).toEqual([{ kind: 'object', n: 1 }, 'echo:{"a":1}'])

    view.unmount()
    await waitFor(() => expect(open.size).toBe(0))
    expect(log.sockets).toHaveLength(1)
  })

  it('does not reconnect when callback options change identity', async () => {
    const log = recordingWebSocket()
    let rerender: () => void = () => {}
    const calls: number[] = []
    function Feed() {
      const [n, setN] = useState(0)
      rerender = () => setN((x) => x + 1)
      const ws = useWebSocket(url, { WebSocket: log.WebSocket, onMessage: () => calls.push(n) })
      return <p data-testid="status">{ws.status}</p>
    }
    const view = render(<Feed />)
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('connected'))
    act(() => rerender())
    act(() => rerender())
    for (const socket of open) socket.send('ping')
    await waitFor(() => expect(calls).toEqual([2]))
    expect(log.sockets).toHaveLength(1)
    view.unmount()
  })

  it('reconnects after the server drops the connection', async () => {
    const log = recordingWebSocket()
    const closes: number[] = []
    function Feed() {
      const ws = useWebSocket(url, {
        WebSocket: log.WebSocket,
        reconnectInterval: 20,
        onClose: (info) => closes.push(info.code),
      })
      return <p data-testid="status">{ws.status}</p>
    }
    const view = render(<Feed />)
    const status = () => view.getByTestId('status').textContent
    await waitFor(() => expect(status()).toBe('connected'))
    for (const socket of open) socket.close(1012, 'restart')
    await waitFor(() => expect(closes).toEqual([1012]))
    await waitFor(() => expect(status()).toBe('connected'))
    expect(log.sockets).toHaveLength(2)
    view.unmount()
  })

  it('with reconnect: false, stays disconnected after a close', async () => {
    const log = recordingWebSocket()
    function Feed() {
      const ws = useWebSocket(url, { WebSocket: log.WebSocket, reconnect: false })
      return <p data-testid="status">{ws.status}</p>
    }
    const view = render(<Feed />)
    const status = () => view.getByTestId('status').textContent
    await waitFor(() => expect(status()).toBe('connected'))
    for (const socket of open) socket.close(1012, 'restart')
    await waitFor(() => expect(status()).toBe('disconnected'))
    await new Promise((r) => setTimeout(r, 100))
    expect(log.sockets).toHaveLength(1)
    view.unmount()
  })

  it('opens a new connection when the url changes, and closes the old one', async () => {
    const log = recordingWebSocket()
    let setPath: (p: string) => void = () => {}
    function Feed() {
      const [path, set] = useState('/a')
      setPath = set
      const ws = useWebSocket(`${url}${path}`, { WebSocket: log.WebSocket })
      return <p data-testid="status">{`${path} ${ws.status}`}</p>
    }
    const view = render(<Feed />)
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('/a connected'))
    act(() => setPath('/b'))
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('/b connected'))
    await waitFor(() => expect(open.size).toBe(1))
    expect(log.sockets).toHaveLength(2)
    view.unmount()
  })
})
