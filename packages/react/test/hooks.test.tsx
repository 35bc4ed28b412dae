// @vitest-environment jsdom
// biome-ignore-all lint/correctness/noComponentHookFactories: test components close over each test's own variables.
/**
 * The hooks against a real Switchboard server on port 0, with `ws` as the client's WebSocket:
 * one socket under StrictMode, cleanup on unmount, resubscribe on a name change, callbacks that
 * change identity without resubscribing, presence from the subscribe reply and join/leave frames.
 */
import { SwitchboardClient } from '@switchboard/client'
import {
  SwitchboardProvider,
  useChannel,
  useConnectionState,
  usePresence,
  useRequest,
  useSwitchboard,
} from '@switchboard/react'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { type ReactNode, StrictMode, useEffect, useState } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { recordingWebSocket, startServer, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())
afterEach(() => cleanup())

const subscribes = (sent: Array<{ type: string; channel?: string }>, channel: string) =>
  sent.filter((f) => f.type === 'subscribe' && f.channel === channel).length

function Status() {
  const { status } = useConnectionState()
  return <p data-testid="status">{status}</p>
}

describe('SwitchboardProvider', () => {
  it('opens exactly one WebSocket under StrictMode and closes it on unmount', async () => {
    const log = recordingWebSocket()
    const view = render(
      <StrictMode>
        <SwitchboardProvider url={`${server.url}?name=strict`} options={{ WebSocket: log.WebSocket }}>
          <Status />
        </SwitchboardProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('connected'))
    expect(log.sockets).toHaveLength(1)
    expect(server.sb.connections.size).toBe(1)
    view.unmount()
    await waitFor(() => expect(server.sb.connections.size).toBe(0))
    expect(log.sockets).toHaveLength(1)
  })

  it('passes a given client through without connecting or closing it', async () => {
    const log = recordingWebSocket()
    const client = new SwitchboardClient(`${server.url}?name=own`, {
      WebSocket: log.WebSocket,
      autoConnect: false,
    })
    let seen: unknown
    function Probe() {
      seen = useSwitchboard()
      return null
    }
    const view = render(
      <SwitchboardProvider client={client}>
        <Probe />
      </SwitchboardProvider>,
    )
    expect(seen).toBe(client)
    expect(client.state).toBe('disconnected')
    view.unmount()
    expect(log.sockets).toHaveLength(0)
  })

  it('useSwitchboard throws outside a provider', () => {
    function Orphan() {
      useSwitchboard()
      return null
    }
    const spy = console.error
    console.error = () => {}
    try {
      expect(() => render(<Orphan />)).toThrow(/SwitchboardProvider/)
    } finally {
      console.error = spy
    }
  })
})

describe('useConnectionState', () => {
  it('goes connecting → connected → reconnecting when the server goes away → connected again', async () => {
    const own = await startServer()
    const port = Number(new URL(own.url).port)
    const client = new SwitchboardClient(`${own.url}?name=state`, {
      WebSocket: recordingWebSocket().WebSocket,
      backoff: () => 50,
    })
    const seen: string[] = []
    function Recorder() {
      const { status } = useConnectionState()
      useEffect(() => {
        seen.push(status)
      }, [status])
      return <p data-testid="status">{status}</p>
    }
    const view = render(
      <SwitchboardProvider client={client}>
        <Recorder />
      </SwitchboardProvider>,
    )
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('connected'))
    await own.close()
    await waitFor(() => expect(view.getByTestId('status').textContent).toBe('reconnecting'))
    const again = await startServer(port)
    try {
      await waitFor(() => expect(view.getByTestId('status').textContent).toBe('connected'), { timeout: 5000 })
      expect(seen).toEqual(['connecting', 'connected', 'reconnecting', 'connected'])
    } finally {
      client.close()
      await again.close()
    }
  })
})

describe('useChannel', () => {
  function wrapper(client: SwitchboardClient) {
    return ({ children }: { children: ReactNode }) => (
      <SwitchboardProvider client={client}>{children}</SwitchboardProvider>
    )
  }

  it('delivers messages, subscribes once under StrictMode, and unsubscribes on unmount', async () => {
    const log = recordingWebSocket()
    const client = new SwitchboardClient(`${server.url}?name=ann`, { WebSocket: log.WebSocket })
    const got: string[] = []
    function Room() {
      const { state } = useChannel<{ requests: object; events: object; channels: Record<string, string> }>(
        'chat:one',
        (text) => got.push(text),
      )
      return <p data-testid="state">{state}</p>
    }
    const view = render(
      <StrictMode>
        <Room />
      </StrictMode>,
      { wrapper: wrapper(client) },
    )
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('subscribed'))
    expect(subscribes(log.sent, 'chat:one')).toBe(1)
    await server.sb.publish('chat:one', 'hello')
    await server.sb.publish('chat:one', 'again')
    await waitFor(() => expect(got).toEqual(['hello', 'again']))
    expect(server.sb.channelSize('chat:one')).toBe(1)
    view.unmount()
    await waitFor(() => expect(server.sb.channelSize('chat:one')).toBe(0))
    client.close()
  })

  it('resubscribes when the name changes, not when the callback changes', async () => {
    const log = recordingWebSocket()
    const client = new SwitchboardClient(`${server.url}?name=bob`, { WebSocket: log.WebSocket })
    const got: string[] = []
    let setRoom: (room: string) => void = () => {}
    let bump: () => void = () => {}
    function Room() {
      const [room, set] = useState('chat:a')
      const [n, setN] = useState(0)
      setRoom = set
      bump = () => setN((x) => x + 1)
      // A new callback identity on every render.
      const { state } = useChannel(room, (data) => got.push(`${n}:${String(data)}`))
      return <p data-testid="state">{`${room} ${state}`}</p>
    }
    const view = render(<Room />, { wrapper: wrapper(client) })
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('chat:a subscribed'))
    act(() => bump())
    act(() => bump())
    await server.sb.publish('chat:a', 'x')
    // The latest callback is the one called.
    await waitFor(() => expect(got).toEqual(['2:x']))
    expect(subscribes(log.sent, 'chat:a')).toBe(1)

    act(() => setRoom('chat:b'))
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('chat:b subscribed'))
    await waitFor(() => expect(server.sb.channelSize('chat:a')).toBe(0))
    expect(server.sb.channelSize('chat:b')).toBe(1)
    await server.sb.publish('chat:a', 'not for us')
    await server.sb.publish('chat:b', 'y')
    await waitFor(() => expect(got).toEqual(['2:x', '2:y']))
    view.unmount()
    client.close()
  })

  it('shares one subscription between components and keeps it until the last one unmounts', async () => {
    const log = recordingWebSocket()
    const client = new SwitchboardClient(`${server.url}?name=cy`, { WebSocket: log.WebSocket })
    let setShown: (n: number) => void = () => {}
    function Listener() {
      const { state } = useChannel('chat:shared')
      return <span>{state}</span>
    }
    function Many() {
      const [shown, set] = useState(2)
      setShown = set
      return (
        <div>
          {Array.from({ length: shown }, (_, i) => (
            <Listener key={String(i)} />
          ))}
        </div>
      )
    }
    render(<Many />, { wrapper: wrapper(client) })
    await waitFor(() => expect(server.sb.channelSize('chat:shared')).toBe(1))
    act(() => setShown(1))
    await new Promise((r) => setTimeout(r, 50))
    expect(server.sb.channelSize('chat:shared')).toBe(1)
    act(() => setShown(0))
    await waitFor(() => expect(server.sb.channelSize('chat:shared')).toBe(0))
    expect(subscribes(log.sent, 'chat:shared')).toBe(1)
    client.close()
  })

  it('publish resolves with the position once the server accepted it', async () => {
    const client = new SwitchboardClient(`${server.url}?name=dee`, {
      WebSocket: recordingWebSocket().WebSocket,
    })
    let publish: ((data: unknown) => Promise<{ offset: number }>) | undefined
    const got: unknown[] = []
    function Room() {
      publish = useChannel('chat:pub', (data) => got.push(data)).publish
      return null
    }
    render(<Room />, { wrapper: wrapper(client) })
    await waitFor(() => expect(server.sb.channelSize('chat:pub')).toBe(1))
    const result = await publish!({ text: 'mine' })
    expect(result.offset).toBeGreaterThan(0)
    await waitFor(() => expect(got).toEqual([{ text: 'mine' }]))
    client.close()
  })
})

describe('usePresence', () => {
  it('lists members from the subscribe reply, then follows joins and leaves', async () => {
    const clients = ['amy', 'ben'].map(
      (name) =>
        new SwitchboardClient(`${server.url}?name=${name}`, { WebSocket: recordingWebSocket().WebSocket }),
    )
    const lists: Record<string, string> = {}
    function Who({ me }: { me: string }) {
      const members = usePresence('chat:lobby')
      lists[me] = members.map((m) => m.userId).join(',')
      return null
    }
    const amy = render(
      <StrictMode>
        <SwitchboardProvider client={clients[0]!}>
          <Who me="amy" />
        </SwitchboardProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(lists.amy).toBe('amy'))
    const ben = render(
      <SwitchboardProvider client={clients[1]!}>
        <Who me="ben" />
      </SwitchboardProvider>,
    )
    await waitFor(() => expect(lists.ben).toBe('amy,ben'))
    await waitFor(() => expect(lists.amy).toBe('amy,ben'))
    ben.unmount()
    await waitFor(() => expect(lists.amy).toBe('amy'))
    amy.unmount()
    for (const c of clients) c.close()
  })

  it('shares the member list with useChannel on the same channel, whichever mounts first', async () => {
    const client = new SwitchboardClient(`${server.url}?name=eve`, {
      WebSocket: recordingWebSocket().WebSocket,
    })
    let members = ''
    let showPresence: (v: boolean) => void = () => {}
    function Room() {
      const [shown, set] = useState(false)
      showPresence = set
      useChannel('chat:late')
      return shown ? <Who /> : null
    }
    function Who() {
      members = usePresence('chat:late')
        .map((m) => m.userId)
        .join(',')
      return null
    }
    render(
      <SwitchboardProvider client={client}>
        <Room />
      </SwitchboardProvider>,
    )
    await waitFor(() => expect(server.sb.channelSize('chat:late')).toBe(1))
    await new Promise((r) => setTimeout(r, 50))
    act(() => showPresence(true))
    await waitFor(() => expect(members).toBe('eve'))
    client.close()
  })
  it('lists the members of a channel the app had subscribed to before the hook mounted', async () => {
    const client = new SwitchboardClient(`${server.url}?name=fay`, {
      WebSocket: recordingWebSocket().WebSocket,
    })
    client.connect()
    const channel = client.channel('chat:early')
    await new Promise((resolve) => channel.once('subscribed', resolve))
    let members = ''
    function Who() {
      members = usePresence('chat:early')
        .map((m) => m.userId)
        .join(',')
      return null
    }
    render(
      <SwitchboardProvider client={client}>
        <Who />
      </SwitchboardProvider>,
    )
    await waitFor(() => expect(members).toBe('fay'))
    client.close()
  })
})

describe('useRequest', () => {
  it('returns a stable request function bound to the client', async () => {
    const client = new SwitchboardClient(`${server.url}?name=req`, {
      WebSocket: recordingWebSocket().WebSocket,
    })
    const fns = new Set<unknown>()
    let reply: unknown
    function Asker() {
      const request = useRequest()
      const [n, setN] = useState(0)
      fns.add(request)
      useEffect(() => {
        if (n < 2) setN(n + 1)
      }, [n])
      useEffect(() => {
        request('echo', { hi: 1 }).then((r) => {
          reply = r
        })
      }, [request])
      return null
    }
    render(
      <SwitchboardProvider client={client}>
        <Asker />
      </SwitchboardProvider>,
    )
    await waitFor(() => expect(reply).toEqual({ hi: 1 }))
    expect(fns.size).toBe(1)
    client.close()
  })
})
