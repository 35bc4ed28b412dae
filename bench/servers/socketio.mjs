// Socket.IO 4 with the websocket transport only. With BENCH_ADAPTER (JSON, set by the multi-node
// group, bench/multinode.mjs) the node runs with one of Socket.IO's official Redis adapters:
// `{ "kind": "redis", "url": "redis://…" }` — `@socket.io/redis-adapter`'s `createAdapter` on
// ioredis (every node PSUBSCRIBEs to every broadcast) — or `{ "kind": "sharded", "nodes":
// [{ "host", "port" }…] }` — its `createShardedAdapter` (SPUBLISH / SSUBSCRIBE per room, Redis 7)
// on a node-redis cluster client, as its documentation sets it up.
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { Server } from 'socket.io'
import { serve } from './harness.mjs'

const require = createRequire(import.meta.url)
const { version } = require('socket.io/package.json')

/** The adapter of BENCH_ADAPTER and a function that closes its Redis clients, or undefined. */
async function redisAdapter() {
  if (!process.env.BENCH_ADAPTER) return undefined
  const o = JSON.parse(process.env.BENCH_ADAPTER)
  const { createAdapter, createShardedAdapter } = await import('@socket.io/redis-adapter')
  if (o.kind === 'redis') {
    const { Redis } = await import('ioredis')
    const pub = new Redis(o.url)
    const sub = pub.duplicate()
    await Promise.all([pub, sub].map((c) => new Promise((r) => c.once('ready', r))))
    return { adapter: createAdapter(pub, sub), close: () => [pub, sub].map((c) => c.disconnect()) }
  }
  if (o.kind === 'sharded') {
    const { createClient, createCluster } = await import('redis')
    const pub =
      o.nodes.length > 1
        ? createCluster({ rootNodes: o.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) })
        : createClient({ url: `redis://${o.nodes[0].host}:${o.nodes[0].port}` })
    const sub = pub.duplicate()
    await Promise.all([pub.connect(), sub.connect()])
    // no close: node-redis's cluster client rejects its subscriptions' pending promises on
    // disconnect (an unhandled rejection); the node exits right after close anyway
    return { adapter: createShardedAdapter(pub, sub), close: () => {} }
  }
  throw new Error(`unknown BENCH_ADAPTER kind ${o.kind}`)
}

async function start() {
  const http = createServer()
  const redis = await redisAdapter()
  const adapterVersion = redis ? require('@socket.io/redis-adapter/package.json').version : undefined
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
    ...(redis ? { adapter: redis.adapter } : {}),
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
    version: `socket.io ${version}${adapterVersion ? `, @socket.io/redis-adapter ${adapterVersion}` : ''}`,
    port: http.address().port,
    connections: () => io.engine.clientsCount,
    publish(channel, data) {
      const offset = (offsets.get(channel) ?? 0) + 1
      offsets.set(channel, offset)
      io.to(channel).emit('message', { channel, epoch: 'e1', offset, data })
    },
    close: async () => {
      await new Promise((r) => io.close(() => r()))
      await redis?.close()
    },
  }
}

serve(start())
