/**
 * `switchboard bench`: its usage text and flags. Reads the command line (and $SWITCHBOARD_TOKEN)
 * into a BenchConfig, or throws UsageError for anything missing, malformed or out of range.
 */
import { isValidChannel } from '@switchboard/protocol'
import { parseArgs, UsageError } from '../args.js'

export const BENCH_USAGE = `Usage: switchboard bench [ws-url] [--clients 100] [--channel bench:load] [--rate 10] [--duration 10]
                        [--payload 64] [--token JWT] [--workers W] [--json]

  Load-tests a Switchboard server: N subscribers on one channel, one publisher at a fixed rate;
  reports connect time, deliveries, loss, order and latency (publish to receipt). Without a URL it
  benchmarks a throw-away in-process server; with one, the channel must allow client publishes
  there (and the server's per-connection rate limit, 100 frames/s by default, bounds --rate).
  --clients   subscriber connections (default 100)
  --channel   the channel they subscribe to and the publisher publishes on (default bench:load)
  --rate      messages published per second (default 10)
  --duration  seconds of publishing (default 10)
  --payload   bytes of data per message (default 64)
  --token     sent in an auth frame on every connection (default: $SWITCHBOARD_TOKEN)
  --workers   processes holding the subscribers (default: one per 5000 clients)
  --json      print one JSON object instead of the report
  Exits 0 when every message reached every subscriber in order, 1 otherwise.`

export interface BenchConfig {
  /** The server to load; undefined: an in-process server started for the run. */
  url: string | undefined
  clients: number
  channel: string
  /** Messages per second. */
  rate: number
  /** Seconds of publishing. */
  duration: number
  /** Bytes of data per message. */
  payload: number
  token: string | undefined
  workers: number
  json: boolean
}

/** Clients per worker process when --workers is not given. */
export const CLIENTS_PER_WORKER = 5000

function integer(
  value: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer ${min}-${max}, got "${value}"`)
  return n
}

function positive(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > max)
    throw new UsageError(`--${flag} must be a number above 0, at most ${max}, got "${value}"`)
  return n
}

export function benchConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig {
  const {
    command: url,
    options,
    positionals,
  } = parseArgs(argv, ['clients', 'channel', 'rate', 'duration', 'payload', 'token', 'workers'], ['json'])
  if (url !== undefined && !/^wss?:\/\/./.test(url))
    throw new UsageError(`not a ws:// or wss:// URL: "${url}"`)
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  const str = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined)
  const clients = integer(str('clients'), 'clients', 100, 1, 1_000_000)
  const channel = str('channel') ?? 'bench:load'
  if (!isValidChannel(channel))
    throw new UsageError(
      `--channel: "${channel}" is not a channel name (1-256 of A-Z a-z 0-9 _ - : . @ / = +)`,
    )
  const workers = integer(
    str('workers'),
    'workers',
    Math.max(1, Math.ceil(clients / CLIENTS_PER_WORKER)),
    1,
    1024,
  )
  if (workers > clients) throw new UsageError(`--workers ${workers} is more than --clients ${clients}`)
  return {
    url,
    clients,
    channel,
    rate: positive(str('rate'), 'rate', 10, 100_000),
    duration: positive(str('duration'), 'duration', 10, 86_400),
    payload: integer(str('payload'), 'payload', 64, 0, 16 * 1024 * 1024),
    token: str('token') ?? (env.SWITCHBOARD_TOKEN || undefined),
    workers,
    json: options.json === true,
  }
}
