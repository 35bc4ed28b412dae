/**
 * A client in another language, written from docs/protocol.md alone (issue 14 item 7): the
 * Python client in python/msgpack_client.py (asyncio, Debian's python3-websockets and
 * python3-msgpack) speaks `switchboard.v1.msgpack` to a real server, next to two TypeScript
 * clients on the same channel — a `ws` JSON client, which sees bytes in the `$bin` form, and a
 * raw MessagePack one, which sees `Uint8Array`. Every side must see the same bytes at the same
 * offsets: the Python client's publications, the JSON client's (published while Python is
 * subscribed), the handler's reply and the channel's `$history`.
 *
 * It runs /usr/bin/python3, Debian's interpreter, where the python3-* packages are importable
 * (scripts/setup-test-machine.mjs installs them): a missing interpreter or module fails the test.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { jsonCodec, type ServerFrame } from '@switchboard/protocol'
import { msgpackCodec } from '@switchboard/protocol/msgpack'
import { FrameLog, serverFixture, until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const PYTHON = '/usr/bin/python3'
const client = fileURLToPath(new URL('./python/msgpack_client.py', import.meta.url))
const protocolDoc = fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url))

const { setup, onCleanup } = serverFixture({ channels: { 'py:*': { history: 50, clientPublish: true } } })

type Step = { step: string } & Record<string, unknown>

/** Runs the Python client; `onStep` sees each JSON line as it comes. Resolves with every step. */
function runPython(args: string[], onStep: (step: Step) => void) {
  const child = spawn(PYTHON, [client, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  onCleanup(() => child.kill())
  const steps: Step[] = []
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const step = JSON.parse(line) as Step
    steps.push(step)
    onStep(step)
  })
  return new Promise<{ code: number | null; steps: Step[]; stderr: string }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, steps, stderr }))
  })
}

/** A raw `ws` client on `switchboard.v1.msgpack`: binary messages decoded with the real codec. */
async function packedClient(url: string) {
  const log = new FrameLog<ServerFrame>()
  const ws = new WebSocket(url, 'switchboard.v1.msgpack')
  onCleanup(() => ws.terminate())
  ws.on('message', (data, isBinary) => {
    if (!isBinary) throw new Error(`text on a MessagePack connection: ${String(data)}`)
    log.push(msgpackCodec.decode(data as Buffer, 'server') as ServerFrame)
  })
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  await log.next('hello')
  return { log, send: (frame: object) => ws.send(msgpackCodec.encode(frame as never)) }
}

/**
 * One form for every side's view of a value, the Python client's printing: bytes — a
 * `Uint8Array` or the JSON form `{ "$bin": base64 }` — become `{ hex }`.
 */
function hexForm(value: unknown): unknown {
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') }
  if (Array.isArray(value)) return value.map(hexForm)
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  if (entries.length === 1 && entries[0]![0] === '$bin')
    return { hex: Buffer.from(entries[0]![1] as string, 'base64').toString('hex') }
  return Object.fromEntries(entries.map(([k, v]) => [k, hexForm(v)]))
}

const hex = (...bytes: number[]) => ({ hex: Buffer.from(bytes).toString('hex') })
const ALL_BYTES = Array.from({ length: 256 }, (_, i) => i)

// What the Python client publishes, as it prints it (see RAW and NESTED there).
const PY_RAW = hex(...ALL_BYTES)
const PY_NESTED = {
  from: 'python',
  file: { name: 'blob.bin', body: hex(0, 1, 254, 255), parts: [hex(), hex(0x80)] },
  numbers: [0, -1, 255, 65536, 2 ** 40, 1.5],
  flags: [true, false, null],
  text: 'héllo ☃',
}
// What the JSON client publishes while Python is subscribed, in the `$bin` form.
const TS_DATA = { from: 'typescript', blob: { $bin: Buffer.from([9, 8, 7, 0, 255]).toString('base64') } }

interface ChannelMessage {
  offset: number
  data: unknown
}

describe('a Python MessagePack client, from docs/protocol.md alone', () => {
  it('publishes and receives the same bytes as the TypeScript JSON and MessagePack clients, gets its reply and the $history', async () => {
    const { sb, url, client: jsonClient } = await setup()
    const channel = 'py:room'
    // The handler sees the Python client's bytes as a Uint8Array, and answers with bytes too.
    sb.handle('digest', (_conn, data) => {
      const { payload, note } = data as { payload: unknown; note: unknown }
      if (!(payload instanceof Uint8Array)) return { ok: false, got: typeof payload }
      return {
        note,
        length: payload.length,
        sum: payload.reduce((a, b) => a + b, 0),
        reversed: Uint8Array.from(payload).reverse(),
      }
    })

    const json = await jsonClient()
    json.send({ type: 'subscribe', id: 's', channel })
    const packed = await packedClient(url)
    packed.send({ type: 'subscribe', id: 's', channel })
    await json.next('reply')
    await packed.log.next('reply')

    const run = await runPython([url, channel, 'digest'], (step) => {
      if (step.step === 'subscribed') json.send({ type: 'publish', id: 'ts', channel, data: TS_DATA })
    })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const step = (name: string) => run.steps.find((s) => s.step === name)
    expect(step('hello')).toMatchObject({ subprotocol: 'switchboard.v1.msgpack', version: 1 })
    expect(step('closed')).toBeDefined()

    // The request: the handler got bytes, and its bytes came back as bin.
    expect(step('reply')?.data).toEqual({
      note: 'sum me',
      length: 4,
      sum: 0xde + 0xad + 0xbe + 0xef,
      reversed: hex(0xef, 0xbe, 0xad, 0xde),
    })

    // The channel: Python's two publications and the JSON client's, at the offsets their replies
    // gave. Python, the JSON client and the MessagePack client each saw exactly these.
    const published = step('published')?.offsets as number[]
    const tsReply = (await json.next('reply', (f) => f.id === 'ts')) as { data?: { offset: number } }
    const expected: ChannelMessage[] = [
      { offset: published[0]!, data: PY_RAW },
      { offset: published[1]!, data: PY_NESTED },
      { offset: tsReply.data!.offset, data: hexForm(TS_DATA) },
    ].sort((a, b) => a.offset - b.offset)
    expect(expected.map((m) => m.offset)).toEqual([1, 2, 3])

    const fromPython = run.steps
      .filter((s) => s.step === 'message')
      .map((s) => ({ offset: s.offset, data: s.data }))
    expect(fromPython).toEqual(expected)

    const seen = async (log: { frames: readonly ServerFrame[] }) => {
      const messages = () => log.frames.filter((f) => f.type === 'message')
      await until(() => messages().length === 3)
      return messages().map((m) => ({ offset: m.offset, data: m.data }))
    }
    const overJson = await seen(json)
    // The JSON client got the Python client's bytes in the `$bin` form, standard base64.
    expect(overJson.find((m) => m.offset === published[0])?.data).toEqual({
      $bin: Buffer.from(ALL_BYTES).toString('base64'),
    })
    expect(overJson.map((m) => ({ ...m, data: hexForm(m.data) }))).toEqual(expected)
    // The MessagePack client got them as Uint8Array.
    const overPacked = await seen(packed.log)
    expect(overPacked.find((m) => m.offset === published[0])?.data).toEqual(new Uint8Array(ALL_BYTES))
    expect(overPacked.map((m) => ({ ...m, data: hexForm(m.data) }))).toEqual(expected)

    // $history, as Python got it over MessagePack and as the JSON client gets it: the same three.
    const pyHistory = step('history')?.data as { offset: number; messages: ChannelMessage[] }
    expect(pyHistory.offset).toBe(3)
    expect(pyHistory.messages.map(({ offset, data }) => ({ offset, data }))).toEqual(expected)
    json.send({ type: 'request', id: 'h', event: '$history', data: { channel } })
    const jsonHistory = (await json.next('reply', (f) => f.id === 'h')) as { data?: unknown }
    expect(hexForm(jsonHistory.data)).toEqual(pyHistory)
  })

  it('the worked example of docs/protocol.md is what both codecs and Python msgpack give', () => {
    const doc = readFileSync(protocolDoc, 'utf8')
    const section = doc.slice(doc.indexOf('### One frame in both encodings'))
    const text = /```text\n(\{.+)\n```/.exec(section)?.[1]
    const packedHex = /```text\n([0-9a-f]+)\n```/.exec(section)?.[1]
    expect(text).toBeDefined()
    expect(packedHex).toBeDefined()
    // The sizes the text gives are those of the two messages.
    expect(/one text message of\s+(\d+) bytes/.exec(section)?.[1]).toBe(String(Buffer.byteLength(text!)))
    expect(/one binary message of\s+(\d+) bytes/.exec(section)?.[1]).toBe(String(packedHex!.length / 2))
    const frame = jsonCodec.decode(text!, 'client')
    expect(jsonCodec.encode(frame)).toBe(text)
    expect(Buffer.from(msgpackCodec.encode(frame)).toString('hex')).toBe(packedHex)
    expect(hexForm(msgpackCodec.decode(Buffer.from(packedHex!, 'hex'), 'client'))).toEqual(
      hexForm(JSON.parse(text!)),
    )
    // As the docs say: msgpack.packb of the frame as a dict, bytes as `bytes`, gives those bytes.
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        'import base64, json, sys, msgpack\n' +
          'hook = lambda o: base64.b64decode(o["$bin"]) if list(o) == ["$bin"] else o\n' +
          'print(msgpack.packb(json.loads(sys.stdin.read(), object_hook=hook)).hex())',
      ],
      { input: text, encoding: 'utf8' },
    )
    expect(py.stderr).toBe('')
    expect(py.stdout.trim()).toBe(packedHex)
  })
})
