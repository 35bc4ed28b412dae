// Raw ws, the frame built once with `WebSocket.Sender.frame` and written to every subscriber's
// socket as one buffer.
import { Sender } from 'ws'
import { serve } from './harness.mjs'
import { wsContender } from './ws-common.mjs'

const opts = { readOnly: true, fin: true, opcode: 1, mask: false, rsv1: false }

serve(
  wsContender('ws-frame', (subs, text) => {
    const frame = Buffer.concat(Sender.frame(Buffer.from(text), opts))
    for (const ws of subs) ws._socket.write(frame)
  }),
)
