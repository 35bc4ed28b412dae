/**
 * The dashboard's client of the server HTTP API: `POST /api/<method>` with the session's bearer
 * token, typed by method; an error answer becomes an `ApiCallError` with its code and HTTP status.
 * A 401 means the session is over: `onUnauthorized` sends the user back to the login form.
 */
import type { MethodName, RequestOf, ResponseOf } from './api-types.js'

/** Where the API is: `/api/` beside `/dashboard/`, on the same origin. */
export const API_BASE = new URL('../api/', window.location.href).href

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export class ApiClient {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  get bearer(): string {
    return this.token
  }

  async call<N extends MethodName>(method: N, body: RequestOf<N>): Promise<ResponseOf<N>> {
    return callApi(method, body, this.token).catch((err: unknown) => this.failed(err))
  }

  private failed(err: unknown): never {
    if (err instanceof ApiCallError && err.status === 401) this.onUnauthorized()
    throw err
  }
}

/** The path of the revoke method, as the OpenAPI document lists it. */
export const REVOKE_PATH = '/api/revoke'

/** One call with a bearer credential (a key, a session or a link token). */
export async function callApi<N extends MethodName>(
  method: N,
  body: RequestOf<N>,
  bearer: string,
): Promise<ResponseOf<N>> {
  return (await post(method, body, bearer)) as ResponseOf<N>
}

async function post(method: string, body: object, bearer: string): Promise<unknown> {
  const res = await fetch(`${API_BASE}${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const answer = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } }
  if (!res.ok) {
    throw new ApiCallError(
      res.status,
      answer.error?.code ?? 'internal',
      answer.error?.message ?? res.statusText,
    )
  }
  return answer
}

/** The API paths the server's OpenAPI document lists (to show what this server can do). */
export async function apiPaths(): Promise<Set<string>> {
  const res = await fetch(`${API_BASE}openapi.json`)
  if (!res.ok) return new Set()
  const doc = (await res.json()) as { paths?: Record<string, unknown> }
  return new Set(Object.keys(doc.paths ?? {}))
}
