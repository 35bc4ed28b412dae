/**
 * What the commands that talk to a server's HTTP API share (`publish`, `revoke`): the API's base
 * URL from `--api`, and one call — POST JSON with the key as a bearer token — whose refusal is an
 * `ApiCallError` with the server's status, code and message (never the key).
 */
import { UsageError } from './args.js'

/** What the server refused a call with (status 0: no answer at all). */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`)
  }
}

/** The base URL of the API: the given one if it ends in `/api`, else its origin and `/api`. */
export function apiBase(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(`--api must be an http:// or https:// URL, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--api must be an http:// or https:// URL, got "${value}"`)
  }
  const path = url.pathname.replace(/\/+$/, '')
  return `${url.origin}${path.endsWith('/api') ? path : '/api'}`
}

/** POSTs `body` to `<api>/<method>`; resolves with the answer, rejects with an ApiCallError. */
export async function callApi(api: string, key: string, method: string, body: unknown): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(`${api}/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  } catch (err) {
    // No answer at all (refused, unknown host, TLS): say where, not a stack trace.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const why = cause?.code ?? cause?.message ?? (err as Error).message
    throw new ApiCallError(0, 'unreachable', `could not reach ${api}: ${why}`)
  }
  const text = await res.text()
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    throw new ApiCallError(res.status, 'not_json', `the server's answer is not JSON (is ${api} the API?)`)
  }
  if (!res.ok) {
    const error = (answer as { error?: { code?: unknown; message?: unknown } }).error
    throw new ApiCallError(res.status, String(error?.code ?? 'unknown'), String(error?.message ?? text))
  }
  return answer
}
