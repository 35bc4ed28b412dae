// What the snippets of docs/security.md use without defining it (see docs/test/snippets.ts).
import type { Credentials, Switchboard } from '@switchboard/server'

export { createSwitchboard } from '@switchboard/server'

export declare const sb: Switchboard
export declare const pemText: string
export declare const log: { info(message: string): void }
export declare function check(token: string): Promise<Credentials<{ userId: string }>>
