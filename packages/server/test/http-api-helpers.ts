/**
 * What the HTTP API tests share: a call over real HTTP (fetch), and the answers' schemas as the
 * served OpenAPI document gives them, compiled with ajv — so every answer a test checks is also
 * checked against the published document.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import { expect } from 'vitest'

export const KEY = 'k-full-0123456789abcdef'
export const PUBLISH_KEY = 'k-publish-0123456789abcdef'
export const KEYS = [{ key: KEY }, { key: PUBLISH_KEY, publishOnly: true }]

export interface Answer<T = Record<string, unknown>> {
  status: number
  body: T
  headers: Headers
}

/** POSTs `body` (an object as JSON, a string as it is) to `<api>/<method>`. */
export async function call<T = Record<string, unknown>>(
  api: string,
  method: string,
  body: unknown = {},
  /** null: no Authorization header. */
  key: string | null = KEY,
): Promise<Answer<T>> {
  const res = await fetch(`${api}/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  const json = res.headers.get('content-type')?.startsWith('application/json')
  return { status: res.status, body: (json ? JSON.parse(text) : { text }) as T, headers: res.headers }
}

type Check = ((value: unknown) => boolean) & { errors?: unknown }

/** The served document's schemas, compiled: `conforms('PublishResponse', body)` fails the test with ajv's errors. */
export async function documentSchemas(api: string): Promise<(name: string, value: unknown) => void> {
  const doc = (await (await fetch(`${api}/openapi.json`)).json()) as {
    components: { schemas: Record<string, object> }
  }
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  const checks = new Map<string, Check>()
  return (name, value) => {
    let check = checks.get(name)
    if (!check) {
      const schema = doc.components.schemas[name]
      if (!schema) throw new Error(`the document has no schema ${name}`)
      check = ajv.compile(schema) as Check
      checks.set(name, check)
    }
    const ok = check(value)
    expect(ok ? [] : check.errors, `${name}: ${JSON.stringify(value)}`).toEqual([])
  }
}

/** An OK answer, checked against the document's schema of the method's response. */
export async function ok<T = Record<string, unknown>>(
  conforms: (name: string, value: unknown) => void,
  answer: Promise<Answer<T>>,
  method: string,
): Promise<T> {
  const { status, body } = await answer
  expect(status, JSON.stringify(body)).toBe(200)
  conforms(`${method[0]!.toUpperCase()}${method.slice(1)}Response`, body)
  return body
}
