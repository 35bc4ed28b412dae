// What the snippets of docs/server.md use without defining it (see docs/test/snippets.ts).
import { MemoryBroker } from '@switchboard/broker'
import type { Switchboard } from '@switchboard/server'

export { readFile } from 'node:fs/promises'
export { createSwitchboard } from '@switchboard/server'

export declare const sb: Switchboard
/** A broker of your own, for the contract suite. */
export declare class MyBroker extends MemoryBroker {
  storedChannels(): number
}
