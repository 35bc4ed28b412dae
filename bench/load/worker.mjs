// Load-generator worker: a lean WebSocket client on raw `net` sockets. It does the minimal
// RFC 6455 handshake, parses only frame headers on the hot path (payloads are looked at only on
// probe connections, to read the `"t":` timestamp), masks with an all-zero key (valid, and the
// payload bytes stay as they are) and speaks two dialects: `sb` (Switchboard JSON frames, also
// spoken by the raw ws / uWS contenders) and `sio` (Engine.IO v4 + Socket.IO v5 packets).
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

function textFrame(str) {
  const len = Buffer.byteLength(str)
  const hl = len < 126 ? 6 : len < 65536 ? 8 : 14
  const b = Buffer.allocUnsafe(hl + len)
  b[0] = 0x81
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
  b.write(str, hl)
  return b
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
      const t = readT(b, start, end)
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
  } else if (c.sub && s.includes('"s1"')) c.setReady()
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
          if (c.sub)
            c.sock.write(textFrame(`{"type":"subscribe","id":"s1","channel":${JSON.stringify(c.sub)}}`))
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
