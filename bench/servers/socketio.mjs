// Socket.IO 4 with the websocket transport only.
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { Server } from 'socket.io'
import { serve } from './harness.mjs'

const require = createRequire(import.meta.url)
const { version } = require('socket.io/package.json')

async function start() {
  const http = createServer()
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
  })
  const offsets = new Map()
  io.on('connection', (socket) => {
    socket.on('subscribe', (channel, ack) => {
      socket.join(channel)
      if (typeof ack === 'function') ack()
    })
    socket.on('echo', (data, ack) => {
      if (typeof ack === 'function') ack(data)
    })
  })
  await new Promise((r) => http.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, r))
  return {
    name: 'socketio',
    version: `socket.io ${version}`,
    port: http.address().port,
    connections: () => io.engine.clientsCount,
    publish(channel, data) {
      const offset = (offsets.get(channel) ?? 0) + 1
      offsets.set(channel, offset)
      io.to(channel).emit('message', { channel, epoch: 'e1', offset, data })
    },
    close: () => new Promise((r) => io.close(() => r())),
  }
}

serve(start())
