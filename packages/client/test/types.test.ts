/**
 * Type tests for the event map. `expectTypeOf` runs under vitest; the `@ts-expect-error` lines
 * are checked by tsc through packages/client/tsconfig.test.json (part of `tsc -b packages/client`).
 */

import type { Channel, ChannelMessage, PublishResult, SwitchboardClient } from '@switchboard/client'
import { describe, expectTypeOf, it } from 'vitest'

interface ChatMessage {
  user: string
  text: string
}

interface ChatApp {
  requests: {
    'chat:send': { data: { room: string; text: string }; reply: { status: string } }
    'user:count': { data: null; reply: number }
  }
  events: { notice: { text: string }; tick: number }
  channels: { [name: `chat:${string}`]: ChatMessage; 'stats:global': { online: number } }
}

// Compile-time only: a function never called, so nothing connects.
function usage(client: SwitchboardClient<ChatApp>): void {
  expectTypeOf(client.request('chat:send', { room: 'a', text: 'hi' })).toEqualTypeOf<
    Promise<{ status: string }>
  >()
  expectTypeOf(client.request('user:count', null)).toEqualTypeOf<Promise<number>>()
  expectTypeOf(client.channel('chat:general')).toEqualTypeOf<Channel<ChatMessage>>()
  expectTypeOf(client.channel('stats:global')).toEqualTypeOf<Channel<{ online: number }>>()
  expectTypeOf(client.publish('chat:x', { user: 'u', text: 't' })).toEqualTypeOf<Promise<PublishResult>>()
  client.onEvent('notice', (data) => expectTypeOf(data).toEqualTypeOf<{ text: string }>())
  client.onEvent('tick', (data) => expectTypeOf(data).toEqualTypeOf<number>())
  client.channel('chat:a').on('publication', (msg) => {
    expectTypeOf(msg).toEqualTypeOf<ChannelMessage<ChatMessage>>()
    expectTypeOf(msg.data).toEqualTypeOf<ChatMessage>()
  })
  // A channel's messages have one event, `publication`.
  // @ts-expect-error no 'message' event on a channel
  client.channel('chat:a').on('message', () => {})
  // Every `on` returns its remover.
  expectTypeOf(client.on('state', () => {})).toEqualTypeOf<() => void>()
  expectTypeOf(client.channel('chat:a').on('publication', () => {})).toEqualTypeOf<() => void>()
  expectTypeOf(client.onEvent('tick', () => {})).toEqualTypeOf<() => void>()
  client.emit('chat:send', { room: 'a', text: 'hi' })

  // @ts-expect-error unknown request name
  client.request('chat:sned', { room: 'a', text: 'hi' })
  // @ts-expect-error wrong request data
  client.request('chat:send', { room: 'a' })
  // @ts-expect-error unknown channel
  client.channel('dm:bob')
  // @ts-expect-error wrong channel data
  client.publish('chat:a', { text: 1 })
  // @ts-expect-error unknown server event
  client.onEvent('notcie', () => {})
  // @ts-expect-error wrong event payload type
  client.onEvent('tick', (data: string) => data)
  // @ts-expect-error fire-and-forget data is checked too
  client.emit('user:count', 'x')
}

function untyped(client: SwitchboardClient): void {
  expectTypeOf(client.request('anything', { a: 1 })).toEqualTypeOf<Promise<unknown>>()
  expectTypeOf(client.channel('any:name')).toEqualTypeOf<Channel<unknown>>()
}

describe('event map types', () => {
  it('type the client end to end (checked by tsc and by expectTypeOf)', () => {
    expectTypeOf(usage).toBeFunction()
    expectTypeOf(untyped).toBeFunction()
  })
})
