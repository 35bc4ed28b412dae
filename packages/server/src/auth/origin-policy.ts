/**
 * The Origin allowlist (`allowedOrigins`): one rule for the WebSocket upgrade and the HTTP
 * sessions. Without a list any Origin (and none) may connect. With one, a present Origin must be
 * in it, and a missing one is allowed only where the browser is known to have left it out of a
 * same-origin request — never on a WebSocket upgrade, which browsers always send it with.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string> | undefined

  constructor(origins: readonly string[] | undefined) {
    this.allowed = origins ? new Set(origins) : undefined
  }

  /** Whether there is a list at all (CORS headers are sent only then). */
  get restricted(): boolean {
    return this.allowed !== undefined
  }

  /** `sameOrigin`: the request says it comes from the page's own origin (or from an admitted session). */
  allows(origin: string | undefined, sameOrigin: boolean): boolean {
    if (!this.allowed) return true
    return origin === undefined ? sameOrigin : this.allowed.has(origin)
  }
}
