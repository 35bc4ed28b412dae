/**
 * `switchboard connect`: a Switchboard client on the command line, for trying a server by hand
 * or from a script (what wscat is for a raw WebSocket, with reconnection, recovery and requests).
 * Everything that arrives is printed as one JSON line; commands are read one per line from stdin.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import {
  type Channel,
  ErrorCode,
  SwitchboardClient,
  type SwitchboardClientOptions,
} from '@switchboard/client'
import WebSocket from 'ws'
import { parseArgs, UsageError } from './args.js'

export const CONNECT_USAGE = `Usage: switchboard connect <ws-url> [--token JWT] [--subscribe CHANNEL[,CHANNEL…]] [--origin URL]

  Prints one JSON line for everything that happens: {"state"} (with the close code and reason
  that caused it), {"message"}, {"presence"}, {"recovery"}, {"subscribed"}/{"unsubscribed"} (the
  server subscribed this connection, or took a channel away), {"event"} (the server's events),
  {"reply"}, {"published"}, {"error"}. Reads commands from stdin, one per line:
    sub CHANNEL           subscribe (resumes from where it was after a reconnect)
    unsub CHANNEL         unsubscribe
    pub CHANNEL JSON      publish; prints {"published"} once the server accepted it
    req EVENT [JSON]      send a request; prints {"reply"}
    quit                  close and exit (so do the end of stdin and a close the client does
                          not retry); what is still unanswered gets up to 3 s, then fails
  --token    sent in an auth frame on every connect (default: $SWITCHBOARD_TOKEN)
  --origin   the Origin header of the handshake, for a server with allowedOrigins (a browser
             sends one; a command-line client sends none unless told)
  A wss:// server whose certificate is not from a public CA: NODE_EXTRA_CA_CERTS=ca.pem`

export interface ConnectConfig {
  url: string
  token: string | undefined
  subscribe: string[]
  origin?: string
}

export function connectConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConnectConfig {
  const { command: url, options, positionals } = parseArgs(argv, ['token', 'subscribe', 'origin'])
  if (url === undefined) throw new UsageError('connect needs a ws:// or wss:// URL')
  if (!/^wss?:\/\/./.test(url)) throw new UsageError(`not a ws:// or wss:// URL: "${url}"`)
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const str = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined)
  const subscribe = (str('subscribe') ?? '').split(',').filter(Boolean)
  const origin = str('origin')
  if (origin !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/.test(origin)) {
    throw new UsageError(`--origin must be scheme://host[:port], got "${origin}"`)
  }
  return {
    url,
    token: str('token') ?? (env.SWITCHBOARD_TOKEN || undefined),
    subscribe,
    ...(origin === undefined ? {} : { origin }),
  }
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
  const { origin } = config
  const client = new SwitchboardClient(config.url, {
    ...(config.token ? { getToken: () => config.token } : {}),
    ...(origin === undefined ? {} : { WebSocket: withOrigin(origin) }),
  })
  client.on('state', ({ newState, reason, closeCode, closeReason }) =>
    print({
      state: newState,
      reason,
      ...(closeCode === undefined ? {} : { closeCode }),
      ...(closeReason === undefined ? {} : { closeReason }),
    }),
  )
  client.on('error', (err) => print({ error: { code: err.code, message: err.message } }))
  client.onAnyEvent((event, data) => print({ event: data === undefined ? { event } : { event, data } }))
  const watch = (channel: Channel) => {
    const name = channel.name
    channel.on('publication', (m) => print({ message: { channel: name, ...m } }))
    channel.on('presence', (p) => print({ presence: { channel: name, ...p } }))
    channel.on('recovery', (r) => print({ recovery: { channel: name, ...r } }))
    channel.on('error', (err) => print({ error: { channel: name, code: err.code, message: err.message } }))
  }
  const subscribe = (name: string) => {
    if (!client.hasChannel(name)) watch(client.channel(name))
  }
  // Channels the server subscribed this connection to (an API call, sb.subscribe) print as well.
  client.on('serverSubscribed', (channel) => {
    print({ subscribed: { channel: channel.name } })
    watch(channel)
  })
  client.on('serverUnsubscribed', (channel) => print({ unsubscribed: { channel: channel.name } }))
  const failed = (err: { code?: string; message: string }) =>
    print({ error: { code: err.code ?? ErrorCode.INTERNAL, message: err.message } })
  for (const name of config.subscribe) subscribe(name)

  const pending = new Set<Promise<void>>()
  const track = (work: Promise<void>) => {
    pending.add(work)
    void work.finally(() => pending.delete(work))
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  // A close the client will not retry (the server's terminal close) ends the command too.
  client.on('state', ({ newState }) => {
    if (newState === 'closed') lines.close()
  })
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
  // Closing waits for the answers (3 s at most; a client that cannot connect gets them failed).
  await client.close({ flush: true, timeout: 3000 })
  await Promise.allSettled(pending)
}

/**
 * The Node WebSocket, sending `origin` as the handshake's Origin header (`ws` is what the client
 * uses in Node; its class fits the client's WebSocketLike as the client's own Node entry says).
 */
function withOrigin(origin: string): NonNullable<SwitchboardClientOptions['WebSocket']> {
  class OriginWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin })
    }
  }
  return OriginWebSocket as unknown as NonNullable<SwitchboardClientOptions['WebSocket']>
}
