// Switchboard, as an application would run it: `createSwitchboard()` with the default in-memory
// broker, `sb.publish()` for broadcasts and rooms, `sb.handle('echo')` for request/reply.
// With BENCH_BROKER (JSON, set by the multi-node group, bench/multinode.mjs) the node runs on a
// `RedisBroker` instead: `{ "url": "redis://…" }` for one Redis, or `{ "cluster": { "nodes":
// [{ "host", "port" }…] } }` for a Redis Cluster (passed as is to RedisBroker's `cluster` option).
//
// The server is bundled from packages/server/src with esbuild at start (≈100 ms), so the bench
// always measures the source tree and never depends on a stale `dist/`. Set SWITCHBOARD_DIST=1
// to load the tsc-built packages/server/dist/index.js instead, or SWITCHBOARD_MODULE=<file> to
// measure a candidate build (for instance a patched bundle) without touching the tree.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { serve } from './harness.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')

async function load() {
  // a candidate build to measure without touching the tree (e.g. a patched bundle)
  if (process.env.SWITCHBOARD_MODULE) return import(pathToFileURL(process.env.SWITCHBOARD_MODULE).href)
  if (process.env.SWITCHBOARD_DIST === '1')
    return import(pathToFileURL(join(root, 'packages/server/dist/index.js')).href)
  const { build } = await import('esbuild')
  const outfile = join(here, '../.build', `switchboard-server-${process.pid}.mjs`)
  mkdirSync(dirname(outfile), { recursive: true })
  // one bundle for the server and the Redis broker, so both share one @switchboard/broker
  const server = JSON.stringify(join(root, 'packages/server/src/index.ts'))
  const redis = JSON.stringify(join(root, 'packages/redis/src/index.ts'))
  await build({
    stdin: {
      contents: `export * from ${server}\nexport { RedisBroker } from ${redis}\n`,
      resolveDir: root,
      loader: 'js',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // the longest matching alias wins, so the subpath entry is not remapped under index.ts
    alias: {
      '@switchboard/protocol/msgpack': join(root, 'packages/protocol/src/msgpack-codec.ts'),
      '@switchboard/protocol': join(root, 'packages/protocol/src/index.ts'),
      '@switchboard/broker': join(root, 'packages/broker/src/index.ts'),
    },
    logLevel: 'error',
  })
  const mod = await import(pathToFileURL(outfile).href)
  const { rmSync } = await import('node:fs')
  rmSync(outfile, { force: true })
  return mod
}

/** The RedisBroker of BENCH_BROKER, ready, or undefined for the in-memory broker. */
async function redisBroker(mod) {
  if (!process.env.BENCH_BROKER) return undefined
  if (!mod.RedisBroker) throw new Error('this Switchboard build has no RedisBroker')
  const broker = new mod.RedisBroker({
    ...JSON.parse(process.env.BENCH_BROKER),
    logger: { warn: (m) => process.stderr.write(`switchboard node: ${m}\n`) },
  })
  await broker.ready
  return broker
}

async function start() {
  const mod = await load()
  const { createSwitchboard } = mod
  const broker = await redisBroker(mod)
  const sb = createSwitchboard({
    broker,
    port: 0,
    host: '127.0.0.1',
    path: '/',
    channels: {
      'bench:*': {},
      'room:*': {},
      // the presence group's variants (bench/run.mjs): no coalescing, members, counts
      'presence-each:*': { presence: { window: 0, grace: 0 } },
      'presence-members:*': { presence: { grace: 0 } },
      'presence-counts:*': { presence: { mode: 'counts', grace: 0 } },
    },
    logger: false,
  })
  sb.handle('echo', (_conn, data) => data)
  const { port } = await sb.ready
  const encodes = { json: 0, msgpack: 0 }
  let failedPublishes = 0
  let counting = false
  return {
    name: 'switchboard',
    version: broker
      ? 'switchboard (packages/server and packages/redis, this tree)'
      : 'switchboard (packages/server, this tree)',
    port,
    connections: () => sb.connections.size,
    publish(channel, data) {
      // with a RedisBroker a publish can fail (Redis busy past commandTimeoutMs): count, not crash
      sb.publish(channel, data).catch(() => {
        failedPublishes++
      })
    },
    failedPublishes: () => failedPublishes,
    close: async () => {
      await sb.close({ timeout: 100 })
      await broker?.close()
    },
    /**
     * Counts the encodings of `message` frames from now on: JSON.stringify and the MessagePack
     * Encoder (the one module instance the server loaded) are wrapped. One comparison and one
     * increment per publication; only the codecs group turns it on.
     */
    async countEncodes() {
      if (counting) return
      counting = true
      const { Encoder } = await import('@msgpack/msgpack')
      const stringify = JSON.stringify
      JSON.stringify = (value, replacer, space) => {
        if (value?.type === 'message') encodes.json++
        return stringify(value, replacer, space)
      }
      const encode = Encoder.prototype.encode
      Encoder.prototype.encode = function (value) {
        if (value?.type === 'message') encodes.msgpack++
        return encode.call(this, value)
      }
    },
    encodes: () => (counting ? { ...encodes } : undefined),
  }
}

serve(start())
