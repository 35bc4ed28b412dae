// Load-generator worker: a lean WebSocket client on raw `net` sockets. It does the minimal
// RFC 6455 handshake, parses only frame headers on the hot path (payloads are looked at only on
// probe connections, to read the `"t":` timestamp), masks with an all-zero key (valid, and the
// payload bytes stay as they are) and speaks two dialects: `sb` (Switchboard frames, also spoken
// by the raw ws / uWS contenders) and `sio` (Engine.IO v4 + Socket.IO v5 packets). An `sb`
// connection speaks JSON text, or MessagePack in binary messages when it offers the
// `switchboard.v1.msgpack` subprotocol (`packed`).
//
// Controlled by the orchestrator over the IPC channel. Timestamps are CLOCK_MONOTONIC µs
// (process.hrtime), which is the same clock in every process on the machine.
import net from 'node:net'
import { answerControl } from '../control.mjs'
import { Hist } from './hist.mjs'

const hr = () => {
  const [s, ns] = process.hrtime()
  return s * 1e6 + ns / 1e3
}

const conns = []
let count = 0
let firstRecv = 0
let lastRecv = 0
let sent = 0
let sendLagMax = 0
let hist = new Hist()
let lagHist = new Hist()
let collecting = false

const PING_REPLY_SIO = textFrame('3')
const T_KEY = Buffer.from('"t":')
const MSGPACK_SUBPROTOCOL = 'switchboard.v1.msgpack'
// the subscribe reply's `id: "s1"` in MessagePack: fixstr "id", fixstr "s1"
const S1_PACKED = '\xa2id\xa2s1'

function textFrame(str) {
  return clientFrame(0x81, Buffer.from(str))
}

/** One masked (zero key) client frame carrying `payload`; `first`: FIN and opcode. */
function clientFrame(first, payload) {
  const len = payload.length
  const hl = len < 126 ? 6 : len < 65536 ? 8 : 14
  const b = Buffer.allocUnsafe(hl + len)
  b[0] = first
  if (len < 126) {
    b[1] = 0x80 | len
  } else if (len < 65536) {
    b[1] = 0x80 | 126
    b.writeUInt16BE(len, 2)
  } else {
    b[1] = 0x80 | 127
    b.writeUInt32BE(0, 2)
    b.writeUInt32BE(len, 6)
  }
  b.writeUInt32BE(0, hl - 4) // zero masking key: masked payload == payload
  payload.copy(b, hl)
  return b
}

/** A MessagePack map of string keys to string values (all the frames this client sends). */
function packStrings(obj) {
  const parts = [Buffer.from([0x80 | Object.keys(obj).length])]
  for (const [k, v] of Object.entries(obj))
    for (const str of [k, v]) {
      const b = Buffer.from(str)
      if (b.length >= 256) throw new Error('string too long for this encoder')
      parts.push(Buffer.from(b.length < 32 ? [0xa0 | b.length] : [0xd9, b.length]), b)
    }
  return Buffer.concat(parts)
}

/** The frame `obj` (string values only) as this connection speaks it: JSON text or MessagePack. */
function sbFrame(c, obj) {
  return c.packed ? clientFrame(0x82, packStrings(obj)) : textFrame(JSON.stringify(obj))
}

// ---- MessagePack, as far as the probe needs it: find `data.t` in a `message` frame ---------------

/** The offset just past the MessagePack value at `i`. */
function skipPacked(b, i) {
  const c = b[i]
  if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return i + 1
  if ((c & 0xe0) === 0xa0) return i + 1 + (c & 31)
  if ((c & 0xf0) === 0x80) return skipItems(b, i + 1, (c & 15) * 2)
  if ((c & 0xf0) === 0x90) return skipItems(b, i + 1, c & 15)
  switch (c) {
    case 0xc4:
    case 0xd9:
      return i + 2 + b[i + 1]
    case 0xc5:
    case 0xda:
      return i + 3 + b.readUInt16BE(i + 1)
    case 0xc6:
    case 0xdb:
      return i + 5 + b.readUInt32BE(i + 1)
    case 0xcc:
    case 0xd0:
      return i + 2
    case 0xcd:
    case 0xd1:
      return i + 3
    case 0xca:
    case 0xce:
    case 0xd2:
      return i + 5
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return i + 9
    case 0xdc:
      return skipItems(b, i + 3, b.readUInt16BE(i + 1))
    case 0xdd:
      return skipItems(b, i + 5, b.readUInt32BE(i + 1))
    case 0xde:
      return skipItems(b, i + 3, b.readUInt16BE(i + 1) * 2)
    case 0xdf:
      return skipItems(b, i + 5, b.readUInt32BE(i + 1) * 2)
    default:
      return -1 // extension types: not in Switchboard frames
  }
}

function skipItems(b, i, n) {
  for (let k = 0; k < n && i >= 0; k++) i = skipPacked(b, i)
  return i
}

/** [entries, offset of the first key] of the map at `i`, or null. */
function mapAt(b, i) {
  const c = b[i]
  if ((c & 0xf0) === 0x80) return [c & 15, i + 1]
  if (c === 0xde) return [b.readUInt16BE(i + 1), i + 3]
  if (c === 0xdf) return [b.readUInt32BE(i + 1), i + 5]
  return null
}

/** The offset of the value under the short (fixstr) key `key` in the map at `i`, or -1. */
function packedValue(b, i, end, key) {
  const m = mapAt(b, i)
  if (!m) return -1
  let [n, j] = m
  const kl = key.length
  while (n-- > 0 && j >= 0 && j < end) {
    if (b[j] === (0xa0 | kl) && b.toString('latin1', j + 1, j + 1 + kl) === key) return j + 1 + kl
    j = skipPacked(b, skipPacked(b, j))
  }
  return -1
}

/** The non-negative integer at `i` (any MessagePack int or float64 encoding), or -1. */
function uintAt(b, i) {
  const c = b[i]
  if (c <= 0x7f) return c
  switch (c) {
    case 0xcc:
      return b[i + 1]
    case 0xcd:
      return b.readUInt16BE(i + 1)
    case 0xce:
      return b.readUInt32BE(i + 1)
    case 0xcf:
      return b.readUInt32BE(i + 1) * 2 ** 32 + b.readUInt32BE(i + 5)
    case 0xd3:
      return b.readInt32BE(i + 1) * 2 ** 32 + b.readUInt32BE(i + 5)
    case 0xcb:
      return b.readDoubleBE(i + 1)
    default:
      return -1
  }
}

/** Reads `data.t` of a MessagePack frame, or -1. */
function readTPacked(b, start, end) {
  const data = packedValue(b, start, end, 'data')
  if (data < 0) return -1
  const t = packedValue(b, data, end, 't')
  return t < 0 ? -1 : uintAt(b, t)
}

function controlFrame(opcode, payload) {
  const b = Buffer.alloc(6 + payload.length)
  b[0] = 0x80 | opcode
  b[1] = 0x80 | payload.length
  payload.copy(b, 6)
  return b
}

/** Reads the integer after `"t":` in a payload, or -1. */
function readT(b, start, end) {
  const i = b.indexOf(T_KEY, start)
  if (i < 0 || i >= end) return -1
  let v = 0
  for (let j = i + 4; j < end; j++) {
    const c = b[j]
    if (c < 48 || c > 57) break
    v = v * 10 + (c - 48)
  }
  return v
}

function onText(c, b, start, end, now) {
  if (c.ready) {
    if (c.proto === 'sio') {
      const c0 = b[start]
      if (c0 === 50 /* '2' ping */) {
        c.sock.write(PING_REPLY_SIO)
        return now
      }
      if (c0 !== 52 /* '4' */) return now
    }
    if (!collecting || c.paused) return now
    count++
    if (now === 0) now = hr()
    if (firstRecv === 0) firstRecv = now
    lastRecv = now
    if (c.probe) {
      const t = c.packed ? readTPacked(b, start, end) : readT(b, start, end)
      if (t > 0) hist.add(now - t)
    }
    return now
  }
  // setup
  const s = b.toString('latin1', start, end)
  if (c.proto === 'sio') {
    if (s[0] === '0') c.sock.write(textFrame('40'))
    else if (s.startsWith('40')) {
      if (c.sub) c.sock.write(textFrame(`421["subscribe",${JSON.stringify(c.sub)}]`))
      else c.setReady()
    } else if (s.startsWith('431')) c.setReady()
    else if (s[0] === '2') c.sock.write(PING_REPLY_SIO)
  } else if (c.sub && s.includes(c.packed ? S1_PACKED : '"s1"')) c.setReady()
  return now
}

function onData(c, chunk) {
  let b = chunk
  if (c.rest) {
    b = Buffer.concat([c.rest, chunk])
    c.rest = null
  }
  let i = 0
  if (c.http) {
    const h = b.indexOf('\r\n\r\n')
    if (h < 0) {
      c.rest = b
      return
    }
    const head = b.toString('latin1', 0, h)
    if (!head.startsWith('HTTP/1.1 101')) {
      c.fail(new Error(head.split('\r\n')[0]))
      return
    }
    c.http = false
    c.upgraded()
    i = h + 4
  }
  const n = b.length
  let now = 0
  while (i + 2 <= n) {
    const b0 = b[i]
    let len = b[i + 1] & 127
    let hl = 2
    if (len === 126) {
      if (i + 4 > n) break
      len = (b[i + 2] << 8) | b[i + 3]
      hl = 4
    } else if (len === 127) {
      if (i + 10 > n) break
      len = b.readUIntBE(i + 4, 6)
      hl = 10
    }
    const end = i + hl + len
    if (end > n) break
    const op = b0 & 15
    if (op === 1 || op === 2) now = onText(c, b, i + hl, end, now)
    else if (op === 9) c.sock.write(controlFrame(10, b.subarray(i + hl, end)))
    i = end
  }
  if (i < n) c.rest = i === 0 ? b : Buffer.from(b.subarray(i))
}

function connectOne(o, index) {
  return new Promise((resolve) => {
    // spread over many source addresses: bind(addr, 0) picks a port without knowing the peer, so
    // one address with thousands of TIME_WAIT entries makes every connect slow
    const localAddress = `${o.localNet}.${2 + (index % 200)}`
    const sock = net.connect({ host: '127.0.0.1', port: o.port, localAddress })
    sock.setNoDelay(true)
    let settled = false
    const c = {
      sock,
      port: o.port,
      proto: o.proto,
      packed: o.subprotocol === MSGPACK_SUBPROTOCOL,
      sub: null,
      http: true,
      rest: null,
      ready: false,
      paused: false,
      probe: o.probeEvery > 0 && index % o.probeEvery === 0,
      index,
      setReady() {
        c.ready = true
        if (!settled) {
          settled = true
          resolve(c)
        }
      },
      upgraded() {
        if (o.proto === 'sb') {
          if (c.sub) c.sock.write(sbFrame(c, { type: 'subscribe', id: 's1', channel: c.sub }))
          else c.setReady()
        }
      },
      fail(err) {
        sock.destroy()
        if (!settled) {
          settled = true
          resolve(err)
        }
      },
    }
    if (o.subscribe) c.sub = o.subscribe.roomSize ? roomOf(o.subscribe, index) : o.subscribe.channel
    sock.on('data', (d) => onData(c, d))
    sock.on('error', (e) => c.fail(e))
    sock.on('close', () => {
      c.closed = true
      c.fail(new Error('closed'))
    })
    sock.on('connect', () => {
      const proto = o.subprotocol ? `Sec-WebSocket-Protocol: ${o.subprotocol}\r\n` : ''
      sock.write(
        `GET ${o.path} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${proto}\r\n`,
      )
    })
  })
}

function roomOf(s, index) {
  return `${s.prefix}${Math.floor((s.base + index) / s.roomSize) % s.rooms}`
}

async function connect(o) {
  const t0 = hr()
  let ok = 0
  let failed = 0
  let firstError = null
  let next = 0
  const base = conns.length
  const lane = async () => {
    while (next < o.n) {
      const i = next++
      const c = await connectOne(o, base + i)
      if (c instanceof Error) {
        failed++
        firstError ??= c.message
      } else {
        ok++
        conns.push(c)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 200, o.n) }, lane))
  return { ok, failed, firstError, ms: (hr() - t0) / 1000 }
}

function echo(o) {
  // several servers may be connected at once: `port` picks the one under test
  const live = conns.filter((c) => c.ready && !c.closed && (!o.port || c.port === o.port)).slice(0, o.conns)
  for (const c of live) c.probe = true
  const interval = 1e6 / o.rate
  const start = hr() + 20_000
  const stop = start + o.durationMs * 1000
  let next = start
  let k = 0
  let seq = 0
  return new Promise((resolve) => {
    const tick = () => {
      const now = hr()
      while (next <= now && next < stop) {
        const c = live[k++ % live.length]
        const t = Math.round(next)
        const id = ++seq
        c.sock.write(
          textFrame(
            c.proto === 'sio'
              ? `42${id}["echo",{"t":${t}}]`
              : `{"type":"request","id":"${id}","event":"echo","data":{"t":${t}}}`,
          ),
        )
        sent++
        const lag = now - next
        lagHist.add(lag)
        if (lag > sendLagMax) sendLagMax = lag
        next += interval
      }
      if (next >= stop) resolve({ sent: seq })
      else setTimeout(tick, Math.max(0, Math.floor((next - hr()) / 1000)))
    }
    setTimeout(tick, 2)
  })
}

const ops = {
  connect,
  echo,
  reset() {
    count = 0
    firstRecv = 0
    lastRecv = 0
    sent = 0
    sendLagMax = 0
    hist = new Hist()
    lagHist = new Hist()
    collecting = true
    return {}
  },
  report() {
    const alive = conns.reduce((a, c) => a + (c.closed ? 0 : 1), 0)
    return {
      count,
      firstRecv,
      lastRecv,
      sent,
      sendLagMax,
      hist: hist.toJSON(),
      lagHist: lagHist.toJSON(),
      cpu: process.cpuUsage(),
      alive,
      now: hr(),
    }
  },
  /** Slow consumers: `count` connections, spread out and never probes, stop reading (paused). */
  pause(o) {
    const candidates = conns.filter((c) => !c.probe && !c.closed)
    const step = Math.max(1, Math.floor(candidates.length / Math.max(1, o.count)))
    let n = 0
    for (let i = 0; i < candidates.length && n < o.count; i += step) {
      candidates[i].paused = true
      candidates[i].sock.pause()
      n++
    }
    return { paused: n }
  },
  async closeAll() {
    // RST, not FIN: no TIME_WAIT left behind on the client side
    for (const c of conns) c.sock.resetAndDestroy()
    conns.length = 0
    await new Promise((r) => setTimeout(r, 50))
    return {}
  },
  exit() {
    setImmediate(() => process.exit(0))
    return {}
  },
}

answerControl(ops)
