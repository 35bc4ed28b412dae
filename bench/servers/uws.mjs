// uWebSockets.js from the npm-packaged build (@trufflesuite/uws-js-unofficial). The native binary
// is required directly: the package's main entry silently falls back to a JavaScript version.
// Broadcast uses uWS's own pub/sub (`ws.subscribe` + `app.publish`).
import { createRequire } from 'node:module'
import { Channels, handleClientFrame, serve } from './harness.mjs'

const require = createRequire(import.meta.url)
const pkg = '@trufflesuite/uws-js-unofficial'
const binary = `${pkg}/dist/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
const uws = require(binary)
const { version } = require(`${pkg}/package.json`)

async function start() {
  const channels = new Channels()
  let conns = 0
  const app = uws.App().ws('/*', {
    compression: uws.DISABLED,
    maxPayloadLength: 64 * 1024,
    maxBackpressure: 1024 * 1024,
    idleTimeout: 0,
    open() {
      conns++
    },
    message(ws, msg) {
      handleClientFrame(Buffer.from(msg).toString(), {
        subscribe: (ch) => ws.subscribe(ch),
        reply: (text) => ws.send(text, false),
      })
    },
    close() {
      conns--
    },
  })
  const port = await new Promise((resolve, reject) =>
    app.listen('127.0.0.1', 0, (t) =>
      t ? resolve(uws.us_socket_local_port(t)) : reject(new Error('listen')),
    ),
  )
  return {
    name: 'uws',
    version: `uWebSockets.js ${version} (native, ABI ${process.versions.modules})`,
    port,
    connections: () => conns,
    publish(channel, data) {
      app.publish(channel, channels.frame(channel, data).text, false)
    },
    close() {
      app.close?.()
    },
  }
}

serve(start())
