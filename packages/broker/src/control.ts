/**
 * How a node answers a control command, the same in every broker: the handler's value, or its
 * failure as a message (a handler's error never travels as an object), or a refusal when the
 * node has no handler.
 */
import type { ControlCommand, ControlHandler, ControlReply } from './broker.js'

export async function answerControl(
  handler: ControlHandler | undefined,
  command: ControlCommand,
  node?: string,
): Promise<ControlReply> {
  const who = node === undefined ? {} : { node }
  if (!handler) return { ok: false, ...who, error: 'this node takes no control commands' }
  try {
    return { ok: true, ...who, data: await handler(command) }
  } catch (err) {
    return { ok: false, ...who, error: err instanceof Error ? err.message : String(err) }
  }
}
