// Prometheus metrics: a real server scraped over HTTP while real clients connect, subscribe, are
// refused and leave; the scrape must parse as Prometheus text and its numbers must move.
import { createMetrics, type SwitchboardMetrics } from '@switchboard/server/metrics'
import { connect, serverFixture, until } from '@switchboard/testing'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line must be a HELP, a
 * TYPE or a sample of a family whose TYPE came first. Returns `name{label="v",…}` → value.
 */
function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true)
  const typed = new Map<string, string>()
  const samples = new Map<string, number>()
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const [, kind, name, rest] = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line) ?? []
      if (!kind || !name || !NAME.test(name)) throw new Error(`bad comment line: ${line}`)
      if (kind === 'TYPE') {
        if (!TYPES.has(rest ?? '') || typed.has(name)) throw new Error(`bad TYPE line: ${line}`)
        typed.set(name, rest ?? '')
      }
      continue
    }
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`bad sample line: ${line}`)
    const [, name = '', , labelText = '', valueText = ''] = match
    const family = [...typed.keys()].find(
      (f) => name === f || /^_(sum|count|bucket|total|created)$/.test(name.slice(f.length)),
    )
    if (!family) throw new Error(`sample before its TYPE: ${line}`)
    const labels: string[] = []
    for (let rest = labelText; rest !== ''; ) {
      const label = LABEL.exec(rest)
      if (!label) throw new Error(`bad labels: ${line}`)
      labels.push(`${label[1]}="${label[2]}"`)
      rest = rest.slice(label[0].length)
    }
    // Values are Go floats: NaN and (signed) Inf in any letter case, as Prometheus reads them.
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(valueText)
    const value = special
      ? special[2]!.toLowerCase() === 'nan'
        ? Number.NaN
        : Number(`${special[1]}Infinity`)
      : valueText.trim() === ''
        ? Number.NaN
        : Number(valueText)
    if (Number.isNaN(value) && special?.[2]?.toLowerCase() !== 'nan') throw new Error(`bad value: ${line}`)
    const key = labels.length > 0 ? `${name}{${labels.join(',')}}` : name
    if (samples.has(key)) throw new Error(`duplicate sample: ${line}`)
    samples.set(key, value)
  }
  return samples
}

const { setup, onCleanup } = serverFixture()

/** A server whose created HTTP server answers `/metrics` with its own metrics. */
async function metricsServer(options: Parameters<typeof setup>[0] = {}) {
  let metrics: SwitchboardMetrics | undefined
  const server = await setup({
    ...options,
    onRequest: (req, res) => (req.url === '/metrics' ? metrics?.handler(req, res) : res.writeHead(404).end()),
  })
  metrics = createMetrics(server.sb)
  const base = `http://127.0.0.1:${server.port}`
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    return parsePrometheus(await res.text())
  }
  return { ...server, metrics, base, scrape }
}

describe('createMetrics', () => {
  it('reports connections, channels and subscriptions as clients come and go', async () => {
    const { client, scrape } = await metricsServer()
    let m = await scrape()
    expect(m.get('switchboard_connections')).toBe(0)
    expect(m.get('switchboard_channels')).toBe(0)
    expect(m.get('switchboard_subscriptions')).toBe(0)
    expect(m.get('switchboard_buffered_bytes')).toBe(0)

    const a = await client()
    const b = await client()
    a.send({ type: 'subscribe', id: '1', channel: 'room:one' })
    b.send({ type: 'subscribe', id: '1', channel: 'room:one' })
    b.send({ type: 'subscribe', id: '2', channel: 'room:two' })
    await a.next('reply')
    await b.next('reply', (r) => r.id === '2')
    m = await scrape()
    expect(m.get('switchboard_connections')).toBe(2)
    expect(m.get('switchboard_channels')).toBe(2)
    expect(m.get('switchboard_subscriptions')).toBe(3)

    b.ws.close(1000)
    await b.closed
    await until(() => a.ws.readyState === WebSocket.OPEN)
    m = await scrape()
    expect(m.get('switchboard_connections')).toBe(1)
    expect(m.get('switchboard_channels')).toBe(1)
    expect(m.get('switchboard_subscriptions')).toBe(1)
    expect(m.get('switchboard_disconnects_total{code="1000"}')).toBe(1)
  })

  it('reports the bytes queued for a client that stops reading', async () => {
    const { sb, client, scrape } = await metricsServer({
      channels: { 'room:*': {} },
      maxBufferedBytes: 256 * 1024 * 1024,
    })
    const reader = await client()
    reader.send({ type: 'subscribe', id: '1', channel: 'room:slow' })
    await reader.next('reply')
    reader.ws.pause()
    const conn = [...sb.connections.values()][0]!
    const text = 'x'.repeat(4096)
    // Until the kernel's buffers are full and bytes wait in the server itself.
    for (let i = 0; i < 16_000 && conn.bufferedAmount < 1024 * 1024; i++) {
      await sb.publish('room:slow', { i, text })
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    expect(conn.bufferedAmount).toBeGreaterThan(1024 * 1024)
    expect((await scrape()).get('switchboard_buffered_bytes')).toBeGreaterThan(0)
  })

  it('counts refused handshakes (the per-IP cap) and disconnects by close code', async () => {
    const { url, client, scrape, sb, metrics } = await metricsServer({ maxConnectionsPerIp: 2 })
    expect((await scrape()).get('switchboard_handshakes_refused_total')).toBe(0)
    const a = await client()
    await client()
    await expect(connect(url)).rejects.toThrow('HTTP 429')
    await expect(connect(url)).rejects.toThrow('HTTP 429')
    let m = await scrape()
    expect(m.get('switchboard_handshakes_refused_total')).toBe(2)
    expect(m.get('switchboard_connections')).toBe(2)

    a.ws.close(4321, 'bye')
    await a.closed
    await until(() => sb.stats().connections === 1)
    m = await scrape()
    expect(m.get('switchboard_disconnects_total{code="4321"}')).toBe(1)
    expect(m.get('switchboard_handshakes_refused_total')).toBe(2)

    // Draining closes the rest with 1012 — read from the registry, the server no longer listens.
    await sb.close({ timeout: 1000 })
    m = parsePrometheus(await metrics.registry.metrics())
    expect(m.get('switchboard_disconnects_total{code="1012"}')).toBe(1)
    expect(m.get('switchboard_disconnects_total{code="4321"}')).toBe(1)
    expect(m.get('switchboard_connections')).toBe(0)
  })

  it('answers HEAD with headers only and refuses other methods', async () => {
    const { base } = await metricsServer()
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const post = await fetch(`${base}/metrics`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })

  it('shares a registry under its own prefix, with process metrics on request', async () => {
    const one = await setup()
    const two = await setup()
    const registry = new Registry()
    createMetrics(one.sb, { registry, prefix: 'one_', processMetrics: true })
    createMetrics(two.sb, { registry, prefix: 'two_' })
    const c = await one.client()
    onCleanup(() => c.ws.terminate())
    const m = parsePrometheus(await registry.metrics())
    expect(m.get('one_connections')).toBe(1)
    expect(m.get('two_connections')).toBe(0)
    expect(m.get('one_process_resident_memory_bytes')).toBeGreaterThan(0)
    expect([...m.keys()].some((k) => k.startsWith('two_process_'))).toBe(false)
    // Registering the same names twice is a mistake prom-client reports, not a silent overwrite.
    expect(() => createMetrics(two.sb, { registry, prefix: 'two_' })).toThrow(/already been registered/)
  })

  it('has a metric for every field of sb.stats()', async () => {
    const { sb } = await setup()
    const text = await createMetrics(sb).registry.metrics()
    const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    for (const key of Object.keys(sb.stats())) {
      expect(text, `sb.stats().${key} has no metric`).toMatch(
        new RegExp(`^# TYPE switchboard_${snake(key)}(_total)? `, 'm'),
      )
    }
  })
})

describe('parsePrometheus', () => {
  it('rejects what is not Prometheus text', () => {
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\n')).not.toThrow()
    expect(() => parsePrometheus('x 1\n')).toThrow(/before its TYPE/)
    expect(() => parsePrometheus('# TYPE x gauge\nx one\n')).toThrow(/bad value/)
    expect(() => parsePrometheus('# TYPE x gauge\nx{a=b} 1\n')).toThrow(/bad labels/)
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\nx 2\n')).toThrow(/duplicate/)
  })
})
