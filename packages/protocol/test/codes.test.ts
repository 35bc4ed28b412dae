// The close-code and error-code tables: whether to reconnect, and that the tables hold together.
import { describe, expect, it } from 'vitest'
import {
  CLOSE_CODES,
  CloseCode,
  closeCodeInfo,
  closeFor,
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
    [CloseCode.SERVICE_RESTART, true],
    [CloseCode.TRY_AGAIN_LATER, true],
    [CloseCode.AUTH_FAILED, false],
    [CloseCode.FORBIDDEN, false],
    [CloseCode.SLOW_CONSUMER, true],
    [CloseCode.RATE_LIMITED, true],
    [CloseCode.USER_DISCONNECTED, false],
    [CloseCode.TOO_MANY_CONNECTIONS, false],
    [CloseCode.RECONNECT_REQUIRED, true],
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

describe('closeFor', () => {
  it('reads the close column of the error table', () => {
    for (const { code, close } of ERROR_CODES) expect(closeFor(code)).toBe(close)
  })
  it.each([
    [ErrorCode.INVALID_JSON, 1008],
    [ErrorCode.INVALID_FRAME, 1008],
    [ErrorCode.INVALID_CHANNEL, 1008],
    [ErrorCode.FRAME_TOO_LARGE, 1009],
    [ErrorCode.UNAUTHORIZED, 4001],
    [ErrorCode.FORBIDDEN, 4003],
    [ErrorCode.UNAVAILABLE, 1013],
    [ErrorCode.RATE_LIMITED, 4101],
  ])('%s → %i', (code, close) => {
    expect(closeFor(code)).toBe(close)
  })
  it('is undefined for errors that never end a connection, and for unknown codes', () => {
    expect(closeFor(ErrorCode.NOT_SUBSCRIBED)).toBeUndefined()
    expect(closeFor(ErrorCode.TIMEOUT)).toBeUndefined()
    expect(closeFor('my_app_code')).toBeUndefined()
  })
})

describe('rows nothing sends are gone', () => {
  it.each([1011, 4000, 4005])('%i is not in the close table (it follows its band)', (code) => {
    expect(closeCodeInfo(code)).toBeUndefined()
  })
  it('slow_consumer is not an error code (a slow consumer is closed with 4100, no error frame)', () => {
    expect(errorCodeInfo('slow_consumer')).toBeUndefined()
    expect(closeCodeInfo(4100)?.name).toBe('slow_consumer')
  })
})
