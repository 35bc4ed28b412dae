/**
 * Reading an API request's body: at most `limit` bytes (a bigger one is refused with 413 as soon
 * as that is known, from its Content-Length or while it arrives), UTF-8, JSON with an object at
 * its root. Bytes written in the protocol's JSON form (`{ "$bin": base64 }`) become a `Uint8Array`,
 * and `__proto__`, `constructor` and `prototype` keys are refused anywhere, as in a frame. An
 * empty body is `{}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BINARY_KEY, ErrorCode, fromBase64 } from '@switchboard/protocol'
import { answerLingering } from '../http/linger.js'
import { ApiError } from './api-error.js'

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** How long a refused request that keeps sending is read (and dropped) before its socket is cut. */

class BadJson extends Error {}

function reviver(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new BadJson(`the key "${key}" is not allowed`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const text = (value as Record<string, unknown>)[BINARY_KEY]
  if (text === undefined || Object.keys(value).length !== 1) return value
  if (typeof text !== 'string') throw new BadJson(`"${BINARY_KEY}" must hold a base64 string`)
  try {
    return fromBase64(text)
  } catch {
    throw new BadJson(`"${BINARY_KEY}" holds invalid base64`)
  }
}

/** Parses the body's text: an object, or an ApiError `invalid_json`. */
export function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text, reviver)
  } catch (err) {
    const why = err instanceof BadJson ? err.message : 'it is not valid JSON'
    throw new ApiError(ErrorCode.INVALID_JSON, `the request body cannot be read: ${why}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(ErrorCode.INVALID_JSON, 'the request body must be a JSON object')
  }
  return value as Record<string, unknown>
}

/**
 * Resolves with the parsed body, or with undefined once a 413 has been sent (the socket closes
 * after the client stops sending, so it reads the answer rather than a reset).
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve, reject) => {
    const tooBig = () => {
      refuseLingering(req, res, limit)
      resolve(undefined)
    }
    if (Number(req.headers['content-length']) > limit) return tooBig()
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else {
        done = true
        chunks.length = 0
        tooBig()
      }
    })
    req.on('error', (err) => {
      if (!done) reject(err)
      done = true
    })
    req.on('end', () => {
      if (done) return
      done = true
      let text: string
      try {
        text = utf8.decode(Buffer.concat(chunks, size))
      } catch {
        return reject(new ApiError(ErrorCode.INVALID_JSON, 'the request body is not valid UTF-8'))
      }
      try {
        resolve(parseBody(text))
      } catch (err) {
        reject(err)
      }
    })
  })
}

/**
 * The 413, written at once; the response ends once the client has finished sending (see
 * http/linger.ts).
 */
function refuseLingering(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const text = JSON.stringify({
    error: { code: ErrorCode.FRAME_TOO_LARGE, message: `a request body may not exceed ${limit} bytes` },
  })
  answerLingering(
    req,
    res,
    413,
    { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    text,
  )
}
