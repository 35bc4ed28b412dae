// The part every contender shares: the control channel (IPC messages from the orchestrator),
// the publish scheduler (fixed offered rate or flat out; one publish per event-loop turn or a
// burst of many), and CPU / RSS reporting. A contender module supplies only
// `{ name, version, port, publish(channel, data), connections(), close() }`, and optionally
// `countEncodes()` (start counting how many times a publication's frame is encoded, per codec)
// and `encodes()` (the counts so far).
import { randomBytes } from 'node:crypto'
import { answerControl } from '../control.mjs'

const hr = () => {
  const [s, ns] = process.hrtime()
  return s * 1e6 + ns / 1e3
}

/**
 * Publishes `count` messages per turn. rate > 0: bursts are scheduled at start + k·burst/rate and
 * every message carries its *scheduled* time in `t`, so a stalled loop shows up as latency.
 * rate = 0: flat out, one burst per event-loop turn (setImmediate), `t` = actual publish time.
 * The data is `{ t, seq, pad }` with `size` characters of text, or with `binary` > 0
 * `{ t, seq, bin }` with that many random bytes as a Uint8Array (the same bytes every time).
 */
function schedule({ rate, burst, durationMs, size, binary }, pick, publish) {
  const bin = binary > 0 ? new Uint8Array(randomBytes(binary)) : undefined
  const pad = 'x'.repeat(size ?? 64)
  const data = bin ? (t, seq) => ({ t, seq, bin }) : (t, seq) => ({ t, seq, pad })
  const start = hr() + 20_000
  const stop = start + durationMs * 1000
  let seq = 0
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    const r = process.memoryUsage.rss()
    if (r > peakRss) peakRss = r
  }, 100)
  return new Promise((resolve) => {
    const done = () => {
      clearInterval(sampler)
      const r = process.memoryUsage.rss()
      if (r > peakRss) peakRss = r
      const offered = rate > 0 ? Math.ceil(((stop - start) * rate) / 1e6 / burst) * burst : seq
      resolve({ published: seq, offered, start, end: hr(), peakRss })
    }
    const interval = rate > 0 ? (1e6 * burst) / rate : 0
    let next = start
    const turn = () => {
      const now = hr()
      if (rate === 0) {
        if (now >= stop) return done()
        const t = Math.round(now)
        for (let b = 0; b < burst; b++) {
          const s = seq++
          publish(pick(s), data(t, s))
        }
        setImmediate(turn)
        return
      }
      // past the end, an overloaded server drops its backlog rather than run on for minutes
      if (next >= stop || now >= stop) return done()
      if (next <= now) {
        const t = Math.round(next)
        for (let b = 0; b < burst; b++) {
          const s = seq++
          publish(pick(s), data(t, s))
        }
        next += interval
        setImmediate(turn)
      } else {
        setTimeout(turn, Math.max(0, Math.floor((next - now) / 1000) - 1))
      }
    }
    setTimeout(turn, 20)
  })
}

export async function serve(contender) {
  const c = await contender
  const ops = {
    stats(m) {
      if (m.gc && globalThis.gc) {
        globalThis.gc()
        globalThis.gc()
      }
      const mu = process.memoryUsage()
      return {
        cpu: process.cpuUsage(),
        rss: mu.rss,
        heapUsed: mu.heapUsed,
        conns: c.connections(),
        encodes: c.encodes?.(),
        failedPublishes: c.failedPublishes?.(),
      }
    },
    async countEncodes() {
      if (!c.countEncodes) throw new Error(`${c.name} does not count encodes`)
      await c.countEncodes()
      return {}
    },
    /** Diagnostics: writes a V8 heap snapshot (after a GC) and returns its path. */
    async heapSnapshot(m) {
      const { writeHeapSnapshot } = await import('node:v8')
      globalThis.gc?.()
      return { file: writeHeapSnapshot(m.file) }
    },
    broadcast(m) {
      return schedule(m, () => m.channel, c.publish)
    },
    rooms(m) {
      return schedule(
        { ...m, rate: m.rooms * m.ratePerRoom, burst: 1 },
        (s) => `${m.prefix}${s % m.rooms}`,
        c.publish,
      )
    },
    async exit() {
      setTimeout(() => process.exit(0), 200).unref()
      await c.close?.()
      setImmediate(() => process.exit(0))
      return {}
    },
  }
  answerControl(ops)
  process.send({ ready: true, name: c.name, version: c.version, port: c.port, pid: process.pid })
}

/** The tiny protocol subset the raw contenders speak: subscribe and the `echo` request. */
export function handleClientFrame(text, { subscribe, reply }) {
  const f = JSON.parse(text)
  if (f.type === 'subscribe') {
    subscribe(f.channel)
    reply(`{"type":"reply","id":${JSON.stringify(f.id)},"ok":true}`)
  } else if (f.type === 'request' && f.event === 'echo' && f.id !== undefined) {
    reply(JSON.stringify({ type: 'reply', id: f.id, ok: true, data: f.data }))
  }
}

/** Channel → subscriber set, with a per-channel offset, shared by the raw contenders. */
export class Channels {
  constructor() {
    this.map = new Map()
    this.offsets = new Map()
  }
  add(channel, sub) {
    let s = this.map.get(channel)
    if (!s) {
      s = new Set()
      this.map.set(channel, s)
    }
    s.add(sub)
  }
  remove(channels, sub) {
    for (const ch of channels) this.map.get(ch)?.delete(sub)
  }
  /** The message frame text for `channel`, with the next offset, and its subscribers. */
  frame(channel, data) {
    const offset = (this.offsets.get(channel) ?? 0) + 1
    this.offsets.set(channel, offset)
    const text = `{"type":"message","channel":${JSON.stringify(channel)},"epoch":"e1","offset":${offset},"data":${JSON.stringify(data)}}`
    return { text, subs: this.map.get(channel) }
  }
}
