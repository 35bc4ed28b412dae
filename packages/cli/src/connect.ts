/**
 * `switchboard connect`: a Switchboard client on the command line, for trying a server by hand
 * or from a script (what wscat is for a raw WebSocket, with reconnection, recovery and requests).
 * Everything that arrives is printed as one JSON line; commands are read one per line from stdin.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { ErrorCode, SwitchboardClient } from '@switchboard/client'
import { parseArgs, UsageError } from './args.js'

export const CONNECT_USAGE = `Usage: switchboard connect <ws-url> [--token JWT] [--subscribe CHANNEL[,CHANNEL…]]

  Prints one JSON line for everything that happens: {"state"}, {"message"}, {"presence"},
  {"recovery"}, {"event"} (the server's events), {"reply"}, {"published"}, {"error"}. Reads commands from stdin, one per line:
    sub CHANNEL           subscribe (resumes from where it was after a reconnect)
    unsub CHANNEL         unsubscribe
    pub CHANNEL JSON      publish; prints {"published"} once the server accepted it
    req EVENT [JSON]      send a request; prints {"reply"}
    quit                  close and exit (so does the end of stdin)
  --token    sent in an auth frame on every connect (default: $SWITCHBOARD_TOKEN)`

export interface ConnectConfig {
  url: string
  token: string | undefined
  subscribe: string[]
}

export function connectConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConnectConfig {
  const { command: url, options, positionals } = parseArgs(argv, ['token', 'subscribe'])
  if (url === undefined) throw new UsageError('connect needs a ws:// or wss:// URL')
  if (!/^wss?:\/\/./.test(url)) throw new UsageError(`not a ws:// or wss:// URL: "${url}"`)
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const str = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined)
  const subscribe = (str('subscribe') ?? '').split(',').filter(Boolean)
  return { url, token: str('token') ?? (env.SWITCHBOARD_TOKEN || undefined), subscribe }
}

/** Parses `JSON` arguments; a bare word that is not JSON is taken as a string. */
function jsonArg(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Runs the client until `quit` or the end of `input`; `print` gets one JSON value per line. */
export async function connect(
  config: ConnectConfig,
  input: Readable,
  print: (line: unknown) => void,
): Promise<void> {
  const client = new SwitchboardClient(config.url, config.token ? { getToken: () => config.token } : {})
  client.on('state', ({ newState, reason }) => print({ state: newState, reason }))
  client.on('error', (err) => print({ error: { code: err.code, message: err.message } }))
  client.onAnyEvent((event, data) => print({ event: data === undefined ? { event } : { event, data } }))
  const subscribe = (name: string) => {
    if (client.hasChannel(name)) return
    const channel = client.channel(name)
    channel.on('publication', (m) => print({ message: { channel: name, ...m } }))
    channel.on('presence', (p) => print({ presence: { channel: name, ...p } }))
    channel.on('recovery', (r) => print({ recovery: { channel: name, ...r } }))
    channel.on('error', (err) => print({ error: { channel: name, code: err.code, message: err.message } }))
  }
  const failed = (err: { code?: string; message: string }) =>
    print({ error: { code: err.code ?? ErrorCode.INTERNAL, message: err.message } })
  for (const name of config.subscribe) subscribe(name)

  const pending = new Set<Promise<void>>()
  const track = (work: Promise<void>) => {
    pending.add(work)
    void work.finally(() => pending.delete(work))
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  for await (const line of lines) {
    const [, verb, name, arg] = /^\s*(\S+)(?:\s+(\S+))?(?:\s+(.*))?$/.exec(line) ?? []
    if (verb === undefined) continue
    if (verb === 'quit') break
    if (verb === 'sub' && name) subscribe(name)
    else if (verb === 'unsub' && name) client.removeChannel(name)
    else if (verb === 'pub' && name) {
      track(
        client
          .publish(name, jsonArg(arg) as never)
          .then((position) => print({ published: { channel: name, ...position } }), failed),
      )
    } else if (verb === 'req' && name) {
      track(
        client
          .request(name, jsonArg(arg) as never)
          .then((data) => print({ reply: { event: name, data } }), failed),
      )
    } else print({ error: { code: 'usage', message: `unknown command: ${line.trim()}` } })
  }
  // Reading stops (stdin no longer holds the process), and what was sent before `quit` (or the end
  // of input) is answered before the client closes.
  lines.close()
  input.destroy()
  await Promise.allSettled(pending)
  client.close()
}
