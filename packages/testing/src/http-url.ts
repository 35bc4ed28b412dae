/** The base URL of the HTTP transports, derived from a server's WebSocket URL. */

/** `ws://host:port/ws` → `http://host:port/ws`. */
export function httpBase(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http')
}
