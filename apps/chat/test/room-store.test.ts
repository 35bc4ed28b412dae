/**
 * The chat's message store: one entry per message id whichever way it came, shown in the
 * channel's order (epoch, then offset) rather than by the senders' clocks, pending messages last.
 */
import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '../src/chat-types.js'
import { RoomStore } from '../src/room-store.js'

const message = (id: string, ts: number): ChatMessage => ({ id, user: id, text: id, ts })
const ids = (store: RoomStore) => store.messages('r').map((m) => m.id)

describe('RoomStore', () => {
  it('orders by offset, not by the senders’ clocks (a fast clock, a tie within a millisecond)', () => {
    const store = new RoomStore()
    // b's sender clock is ahead; c and d tie on the millisecond, d's id sorts first.
    store.received('r', [
      { epoch: 'e1', offset: 2, data: message('b', 5000) },
      { epoch: 'e1', offset: 1, data: message('a', 1000) },
      { epoch: 'e1', offset: 4, data: message('c', 3000) },
      { epoch: 'e1', offset: 3, data: message('d', 3000) },
    ])
    expect(ids(store)).toEqual(['a', 'b', 'd', 'c'])
  })

  it('puts a new epoch after the one before it, and pending messages last until acknowledged', () => {
    const store = new RoomStore()
    store.received('r', [{ epoch: 'old', offset: 7, data: message('x', 2000) }])
    store.pending('r', message('mine', 1))
    // The server restarted (new epoch, offsets from 1): after what came before.
    store.received('r', [{ epoch: 'new', offset: 1, data: message('y', 1500) }])
    expect(ids(store)).toEqual(['x', 'y', 'mine'])
    expect(store.messages('r').at(-1)?.delivery).toBe('pending')
    store.confirmed('r', 'mine', { epoch: 'new', offset: 3 })
    store.received('r', [{ epoch: 'new', offset: 2, data: message('z', 9000) }])
    expect(ids(store)).toEqual(['x', 'y', 'z', 'mine'])
    expect(store.messages('r').every((m) => m.delivery === 'sent')).toBe(true)
  })

  it('shows a message once whichever way it came, and skips publications that are not chat messages', () => {
    const store = new RoomStore()
    store.pending('r', message('m', 10))
    store.received('r', [{ epoch: 'e', offset: 1, data: message('m', 10) }])
    store.received('r', [{ epoch: 'e', offset: 1, data: message('m', 10) }])
    store.received('r', [
      { epoch: 'e', offset: 2, data: { hello: 'from a script' } as unknown as ChatMessage },
    ])
    expect(store.messages('r')).toEqual([
      { ...message('m', 10), delivery: 'sent', position: { epoch: 'e', offset: 1 } },
    ])
  })
})
