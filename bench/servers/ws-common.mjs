// Raw `ws` server with the protocol subset; `send(subs, text)` is the part the two ws contenders
// do differently.
import { createRequire } from 'node:module'
import { WebSocketServer } from 'ws'
import { Channels, handleClientFrame } from './harness.mjs'

const require = createRequire(import.meta.url)
export const wsVersion = require('ws/package.json').version

export async function wsContender(name, send) {
  const channels = new Channels()
  let conns = 0
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    backlog: 4096,
    perMessageDeflate: false,
    clientTracking: false,
  })
  wss.on('connection', (ws) => {
    conns++
    const mine = []
    ws.on('message', (data) => {
      handleClientFrame(data.toString(), {
        subscribe(ch) {
          mine.push(ch)
          channels.add(ch, ws)
        },
        reply: (text) => ws.send(text),
      })
    })
    ws.on('close', () => {
      conns--
      channels.remove(mine, ws)
    })
  })
  await new Promise((r) => wss.on('listening', r))
  return {
    name,
    version: `ws ${wsVersion}`,
    port: wss.address().port,
    connections: () => conns,
    publish(channel, data) {
      const { text, subs } = channels.frame(channel, data)
      if (subs) send(subs, text)
    },
    close: () => new Promise((r) => wss.close(r)),
  }
}
