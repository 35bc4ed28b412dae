/**
 * The event map: one type that names, for an application, every request (its data and its
 * reply), every server event and every channel's message type. The server, the client and the
 * React hooks are parameterised by the same map, so a rename or a changed payload is a compile
 * error on every side. Channel keys may be template literals (`chat:${string}`) to cover a pattern.
 *
 * ```ts
 * interface ChatApp {
 *   requests: { 'chat:send': { data: { room: string; text: string }; reply: { status: string } } }
 *   events: { notice: { text: string } }
 *   channels: { [name: `chat:${string}`]: { user: string; text: string } }
 * }
 * const sb = createSwitchboard<ChatApp>({ port: 8080 })   // server
 * const client = new SwitchboardClient<ChatApp>(url)       // client
 * ```
 */

/** What an event map must look like. Payloads must survive JSON (no functions, no Dates). */
export interface EventMap {
  requests: object
  events: object
  channels: object
}

/** The map used when none is given: every name allowed, every payload `unknown`. */
export interface UntypedEventMap {
  requests: Record<string, { data: unknown; reply: unknown }>
  events: Record<string, unknown>
  channels: Record<string, unknown>
}

export type RequestName<M extends EventMap> = keyof M['requests'] & string
// Indexed access rather than `extends { data: infer D }`: TypeScript contextually types an async
// handler's return through an indexed access but not through a conditional type, so with this
// form `async () => ({ status: 'sent' })` checks against `reply: { status: 'sent' }`.
export type RequestData<M extends EventMap, E extends RequestName<M>> = (M['requests'][E] & {
  data: unknown
})['data']
export type ReplyData<M extends EventMap, E extends RequestName<M>> = (M['requests'][E] & {
  reply: unknown
})['reply']
/**
 * What the server's handler receives for a request: its validator's output when the map says so
 * (`handled`, which `InferEventMap` sets — a transforming schema gives the handler another type
 * than the client sends), else the request's `data`.
 */
export type HandlerData<M extends EventMap, E extends RequestName<M>> = M['requests'][E] extends {
  handled: infer H
}
  ? H
  : RequestData<M, E>

export type EventName<M extends EventMap> = keyof M['events'] & string
export type EventData<M extends EventMap, E extends EventName<M>> = M['events'][E]

export type ChannelName<M extends EventMap> = keyof M['channels'] & string
export type ChannelData<M extends EventMap, N extends ChannelName<M>> = M['channels'][N]
