/**
 * The `proxy` option of `createSwitchboard`: HTTP endpoints of the application that decide who
 * may connect (and for how long), subscribe and publish, and that answer requests. Every hook is
 * a `ProxyHook`; `subscribe`, `publish` and `rpc` may instead be a map from channel (or event)
 * pattern to hook, matched as `channels` patterns are: an exact name wins, then the longest
 * pattern; `*` matches any run of characters. A channel or event no entry matches is not sent
 * to the backend. docs/proxy.md has each hook's request and response.
 */

export interface ProxyHook {
  /** The endpoint, `http:` or `https:`; every call is a POST of a JSON body. */
  url: string
  /** Milliseconds a call may take, waiting for a free slot included; then `unavailable`. Default 3000. */
  timeout?: number
  /** Calls in flight to this hook at once; more wait for a slot within their timeout. Default 64. */
  maxConcurrency?: number
  /** Calls waiting for a slot; beyond this a call is `unavailable` at once. Default 1024. */
  maxQueue?: number
  /**
   * Handshake request headers sent along (`headers` in the body), by name, case-insensitive.
   * For the hooks after connect, the values are those of the connection's handshake, kept for its
   * life. Never logged.
   */
  forwardHeaders?: readonly string[]
  /** Cookies of the handshake sent along (`cookies` in the body), by name. Never logged. */
  forwardCookies?: readonly string[]
  /** Headers of the call itself (say, a shared secret the backend checks). Never logged. */
  headers?: Readonly<Record<string, string>>
  /** Largest response body read, in bytes; a larger one is malformed. Default 1 MiB. */
  maxResponseBytes?: number
}

/** One hook for every channel (or event), or one per pattern. */
export type ProxyHooks = ProxyHook | Readonly<Record<string, ProxyHook>>

export interface ProxyOptions {
  /** Decides every new connection: its user, data, expiry and first channels — or a refusal. */
  connect?: ProxyHook
  /** Decides a connection's `auth` frame once it is connected (the answer to `refresh`). */
  refresh?: ProxyHook
  /** Decides a client's `subscribe` (and its `$history`, `$presence`), per channel pattern. */
  subscribe?: ProxyHooks
  /** Decides a client's `publish`, and may replace its data, per channel pattern. */
  publish?: ProxyHooks
  /** Answers a client's `request` whose event matches, per event pattern. */
  rpc?: ProxyHooks
}
