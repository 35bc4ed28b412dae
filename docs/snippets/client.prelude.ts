// What the snippets of docs/client.md use without defining it (see docs/test/snippets.ts).
import { SwitchboardClient } from '@switchboard/client'

export { SwitchboardClient }
export declare const client: SwitchboardClient
export declare const url: string
export declare const id: string
export declare const controller: AbortController
export declare function render(data: unknown): void
export declare function reloadRecentHistory(): void
export declare function toast(text: string): void
export declare function retryLater(): void
