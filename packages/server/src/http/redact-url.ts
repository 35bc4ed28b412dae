/**
 * `redactUrl`: a request URL fit for a log line. Handshake URLs may carry a token in the query
 * (`?token=…`, what browsers must use for WebSocket auth), and logs outlive tokens.
 */

const DEFAULT_SECRET_PARAMS = ['token', 'access_token', 'jwt']

/**
 * A request URL fit for a log line: the values of the token query parameters (`token`,
 * `access_token`, `jwt`, or the names given) replaced by `[redacted]`.
 */
export function redactUrl(url: string | undefined, names: readonly string[] = DEFAULT_SECRET_PARAMS): string {
  if (url === undefined) return ''
  const q = url.indexOf('?')
  if (q === -1) return url
  const secret = new Set(names.map((n) => n.toLowerCase()))
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = eq === -1 ? pair : pair.slice(0, eq)
      let decoded = name
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '))
      } catch {}
      return secret.has(decoded.toLowerCase()) ? `${name}=[redacted]` : pair
    })
  return `${url.slice(0, q)}?${query.join('&')}`
}
