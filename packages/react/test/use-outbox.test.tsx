// @vitest-environment jsdom
/**
 * useOutbox against a real server: a publish made before the client connected is an entry of
 * the outbox, shown by the hook ("sending…"), and leaves the list once the server has answered
 * it. (jsdom has no IndexedDB: the outbox keeps its entries in memory here; the browser tests in
 * apps/chat/test/outbox.e2e.test.ts prove the durable part.)
 */
import { SwitchboardClient } from '@switchboard/client'
import { indexedDbOutbox } from '@switchboard/client/outbox'
import { SwitchboardProvider, useOutbox } from '@switchboard/react'
import { act, cleanup, render, waitFor } from '@testing-library/react'
import { StrictMode } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())
afterEach(() => cleanup())

function Sending() {
  const entries = useOutbox()
  return (
    <ul data-testid="sending">
      {entries.map((entry) => (
        <li key={entry.id}>{entry.frame.type === 'publish' ? JSON.stringify(entry.frame.data) : ''}</li>
      ))}
    </ul>
  )
}

describe('useOutbox', () => {
  it('shows what waits to be sent until the server answered it', async () => {
    const client = new SwitchboardClient(server.url, { autoConnect: false, outbox: indexedDbOutbox() })
    const landed: unknown[] = []
    const view = render(
      <SwitchboardProvider client={client}>
        <Sending />
      </SwitchboardProvider>,
    )
    expect(view.getByTestId('sending').textContent).toBe('')
    let ack: Promise<{ offset: number }> | undefined
    act(() => {
      ack = client.publish('chat:out', { text: 'hi' })
    })
    await waitFor(() => expect(view.getByTestId('sending').textContent).toBe('{"text":"hi"}'))
    client.channel('chat:out').on('publication', ({ data }) => landed.push(data))
    act(() => client.connect())
    expect((await ack!).offset).toBe(1)
    await waitFor(() => expect(view.getByTestId('sending').textContent).toBe(''))
    await waitFor(() => expect(landed).toEqual([{ text: 'hi' }]))
    await client.close()
  })

  it('a provider given the outbox in its options, under StrictMode, makes one client that owns it', async () => {
    // StrictMode runs the provider's initializer twice with the same options: the client made and
    // dropped must not claim the outbox, or the one kept would throw "belongs to another client".
    const options = { outbox: indexedDbOutbox() }
    const view = render(
      <StrictMode>
        <SwitchboardProvider url={server.url} options={options}>
          <Sending />
        </SwitchboardProvider>
      </StrictMode>,
    )
    expect(view.getByTestId('sending').textContent).toBe('')
    await waitFor(() => expect(server.sb.connections.size).toBe(1))
    view.unmount()
  })

  it('is empty without an outbox', () => {
    const client = new SwitchboardClient(server.url, { autoConnect: false })
    const view = render(
      <SwitchboardProvider client={client}>
        <Sending />
      </SwitchboardProvider>,
    )
    expect(view.getByTestId('sending').textContent).toBe('')
  })
})
