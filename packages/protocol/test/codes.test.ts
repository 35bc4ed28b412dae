// The close-code and error-code tables: whether to reconnect, and that the tables hold together.
import { describe, expect, it } from 'vitest'
import {
  CLOSE_CODES,
  CloseCode,
  closeCodeInfo,
  ERROR_CODES,
  ErrorCode,
  errorCodeInfo,
  shouldReconnect,
} from '../src/index.js'

describe('shouldReconnect', () => {
  it.each([
    [CloseCode.NORMAL, false],
    [CloseCode.GOING_AWAY, true],
    [CloseCode.PROTOCOL_ERROR, false],
    [CloseCode.ABNORMAL, true],
    [CloseCode.POLICY_VIOLATION, false],
    [CloseCode.INTERNAL_ERROR, true],
    [CloseCode.SERVICE_RESTART, true],
    [CloseCode.TRY_AGAIN_LATER, true],
    [CloseCode.BAD_REQUEST, false],
    [CloseCode.AUTH_FAILED, false],
    [CloseCode.FORBIDDEN, false],
    [CloseCode.SLOW_CONSUMER, true],
    [CloseCode.RATE_LIMITED, true],
  ])('%i → %s', (code, expected) => {
    expect(shouldReconnect(code)).toBe(expected)
  })
  it('unknown codes follow their band', () => {
    expect(shouldReconnect(4050)).toBe(false)
    expect(shouldReconnect(4150)).toBe(true)
    expect(shouldReconnect(3000)).toBe(true)
  })
})

describe('tables', () => {
  it('every CloseCode constant is in the table, once', () => {
    const codes = CLOSE_CODES.map((c) => c.code)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of Object.values(CloseCode)) expect(closeCodeInfo(code)?.code).toBe(code)
  })
  it('every ErrorCode constant is in the table, once, and maps to a known close code', () => {
    const codes = ERROR_CODES.map((e) => e.code)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of Object.values(ErrorCode)) {
      const info = errorCodeInfo(code)
      expect(info?.code).toBe(code)
      if (info?.close !== undefined) expect(closeCodeInfo(info.close)).toBeDefined()
    }
  })
  it('close codes sit in the ranges RFC 6455 allows to be sent', () => {
    for (const { code } of CLOSE_CODES) {
      if (code === CloseCode.ABNORMAL) continue // observed only, never sent
      expect(code === 1000 || (code >= 1001 && code <= 1014) || (code >= 3000 && code <= 4999)).toBe(true)
    }
  })
})
