// Raw ws, the naive way: stringify once, `ws.send(text)` per subscriber (ws frames it per client).
import { serve } from './harness.mjs'
import { wsContender } from './ws-common.mjs'

serve(
  wsContender('ws-naive', (subs, text) => {
    for (const ws of subs) ws.send(text)
  }),
)
