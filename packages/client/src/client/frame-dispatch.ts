/**
 * Frame dispatch: a transport message decoded with the protocol's codec (so `hello` and every
 * other frame is known by its decoded `type`, never by the shape of its text) and handed to
 * whoever it concerns — a waiting request, a channel, the server-event listeners, the handshake.
 */
import {
  decodeServerFrame,
  ErrorCode,
  type EventFrame,
  type HelloFrame,
  ProtocolError,
  type ServerFrame,
} from '@switchboard/protocol'
import type { Channel } from '../channel/channel.js'
import { SwitchboardError } from '../util/errors.js'
import type { RequestTable } from './request-table.js'

/** Where decoded frames go. */
export interface FrameTargets {
  readonly requests: RequestTable
  channel(name: string): Channel | undefined
  hello(frame: HelloFrame): void
  event(frame: EventFrame): void
  refresh(): void
  /** An `error` frame tied to no waiting request, or a message that is not a frame. */
  error(error: SwitchboardError): void
}

/** One transport message: a server frame, or the error that says why it is not one. */
export function decodeMessage(data: unknown): ServerFrame | SwitchboardError {
  if (typeof data !== 'string') {
    return new SwitchboardError(ErrorCode.INVALID_FRAME, 'binary frames are not part of v1')
  }
  try {
    return decodeServerFrame(data)
  } catch (err) {
    // The codec throws nothing but ProtocolError; the fallback only keeps the types honest.
    const code = err instanceof ProtocolError ? err.code : ErrorCode.INVALID_FRAME
    return new SwitchboardError(code, err instanceof Error ? err.message : 'bad frame')
  }
}

export function dispatchFrame(frame: ServerFrame, targets: FrameTargets): void {
  switch (frame.type) {
    case 'hello':
      targets.hello(frame)
      return
    case 'reply': {
      const request = targets.requests.get(frame.id)
      if (!request) return
      if (frame.ok) request.resolve(frame.data)
      else request.reject(new SwitchboardError(frame.error.code, frame.error.message, frame.error.details))
      return
    }
    case 'message':
      targets.channel(frame.channel)?.handleMessage(frame)
      return
    case 'presence':
      targets.channel(frame.channel)?.handlePresence(frame.action, frame.member)
      return
    case 'event':
      targets.event(frame)
      return
    case 'error': {
      const error = new SwitchboardError(frame.code, frame.message, frame.details)
      const request = frame.id === undefined ? undefined : targets.requests.get(frame.id)
      if (request) {
        request.reject(error)
        return
      }
      if (frame.channel !== undefined && frame.code === ErrorCode.SLOW_CONSUMER) {
        targets.channel(frame.channel)?.handleStreamCut()
      }
      targets.error(error)
      return
    }
    case 'pong':
      return
    case 'refresh':
      targets.refresh()
      return
  }
}
