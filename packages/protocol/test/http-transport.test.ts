// The HTTP transports' wire format: paths, the session start, batches, poll answers and the
// close pseudo-frame, each encoded and read back, and what must not be mistaken for them.
import { describe, expect, it } from 'vitest'
import {
  CloseCode,
  decodeCloseFrame,
  decodeFrameBatch,
  decodePollAnswer,
  decodeServerFrame,
  encodeCloseFrame,
  encodeFrameBatch,
  encodePollAnswer,
  encodeSessionStart,
  HttpTransportPath,
  httpSessionPath,
  httpTransportPath,
  parseHttpTransportPath,
  SESSION_OPEN_METHOD,
  type SessionStart,
  SseEvent,
} from '../src/index.js'

describe('paths', () => {
  it('puts the transports under the WebSocket path, with or without a trailing slash', () => {
    expect(httpTransportPath('/ws', HttpTransportPath.SSE)).toBe('/ws/sse')
    expect(httpTransportPath('/ws/', HttpTransportPath.LONG_POLLING)).toBe('/ws/poll')
    expect(httpTransportPath('/', HttpTransportPath.SSE)).toBe('/sse')
    expect(httpSessionPath('/ws/poll', 'abc')).toBe('/ws/poll/abc')
    expect(SESSION_OPEN_METHOD).toEqual({ sse: 'GET', poll: 'POST' })
    expect(SseEvent).toEqual({ SESSION: 'session', CLOSE: 'close' })
  })

  it('recognises the open and session paths, and nothing else', () => {
    expect(parseHttpTransportPath('/ws/sse', '/ws')).toEqual({ transport: 'sse', session: undefined })
    expect(parseHttpTransportPath('/ws/poll/Qm9x', '/ws/')).toEqual({ transport: 'poll', session: 'Qm9x' })
    expect(parseHttpTransportPath('/ws', '/ws')).toBeUndefined()
    expect(parseHttpTransportPath('/ws/other', '/ws')).toBeUndefined()
    expect(parseHttpTransportPath('/wss/sse', '/ws')).toBeUndefined()
    expect(parseHttpTransportPath('/api/sse', '/ws')).toBeUndefined()
  })
})

describe('session start', () => {
  it('answers the long-polling open with the session id', () => {
    const text = encodeSessionStart('8kq0mPq3')
    expect(text).toBe('{"session":"8kq0mPq3"}')
    expect((JSON.parse(text) as SessionStart).session).toBe('8kq0mPq3')
  })
})

describe('close pseudo-frame', () => {
  it('round-trips code and reason, and is not a server frame', () => {
    const text = encodeCloseFrame(CloseCode.SERVICE_RESTART, 'server restarting')
    expect(text).toBe('{"type":"close","code":1012,"reason":"server restarting"}')
    expect(decodeCloseFrame(text)).toEqual({ type: 'close', code: 1012, reason: 'server restarting' })
    expect(() => decodeServerFrame(text)).toThrow()
  })

  it('is recognised whatever the key order and spacing', () => {
    expect(decodeCloseFrame('{ "reason": "slow down", "code": 4101, "type": "close" }')).toEqual({
      type: 'close',
      code: 4101,
      reason: 'slow down',
    })
  })

  it('reads a close without a usable code as abnormal (1006)', () => {
    expect(decodeCloseFrame('{"type":"close"}')).toEqual({ type: 'close', code: 1006, reason: '' })
    expect(decodeCloseFrame('{"type":"close","code":"x","reason":5}')).toEqual({
      type: 'close',
      code: 1006,
      reason: '',
    })
  })

  it.each([
    '{"type":"hello","version":1}',
    '{"type":"message","channel":"c","epoch":"e","offset":1,"data":{"type":"close"}}',
    '{"type":"close"',
    '["close"]',
    'null',
    '',
  ])('does not take %s for one', (text) => {
    expect(decodeCloseFrame(text)).toBeUndefined()
  })
})

describe('batches', () => {
  const frames = ['{"type":"ping","id":"1"}', '{"type":"subscribe","id":"2","channel":"a,b"}']

  it('sends one frame as is and several as a JSON array', () => {
    expect(encodeFrameBatch(frames.slice(0, 1))).toBe(frames[0])
    expect(JSON.parse(encodeFrameBatch(frames))).toEqual(frames.map((f) => JSON.parse(f)))
    expect(decodeFrameBatch(encodeFrameBatch(frames))).toEqual(frames)
    expect(decodeFrameBatch(frames[0]!)).toEqual([frames[0]])
  })

  it('hands a body that only looks like an array on as one (bad) frame', () => {
    expect(decodeFrameBatch('[{"type":')).toEqual(['[{"type":'])
  })

  it('writes a poll answer one frame per line and reads it back', () => {
    const answer = encodePollAnswer([...frames, encodeCloseFrame(1000, 'bye, all')])
    expect(answer.split('\n')).toHaveLength(5)
    expect(JSON.parse(answer)).toHaveLength(3)
    expect(decodePollAnswer(answer)).toEqual([...frames, '{"type":"close","code":1000,"reason":"bye, all"}'])
    expect(encodePollAnswer([])).toBe('[]')
    expect(decodePollAnswer('[]')).toEqual([])
  })
})
