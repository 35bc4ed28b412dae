/**
 * `switchboard publish CHANNEL JSON`: publishes through a server's HTTP API (`POST /api/publish`,
 * docs/http-api.md) and prints the message's position. What a backend's script or an operator
 * uses to send one message; the key comes from `SWITCHBOARD_API_KEY` rather than the command line
 * when it can (a flag shows in the process list), and is never printed.
 */
import { apiBase, callApi } from './api-call.js'
import { parseArgs, UsageError } from './args.js'

export const PUBLISH_USAGE = `Usage: switchboard publish CHANNEL JSON [--api URL] [--key K] [--idempotency-key ID]

  CHANNEL            the channel to publish to
  JSON               the data as JSON: '{"text":"hi"}', 42, '"text"'; - reads it from stdin
  --api              the server: http://host:port, or the API's own address http://host:port/api
                     (default: $SWITCHBOARD_API, else http://localhost:8080)
  --key              an API key of the server (default: $SWITCHBOARD_API_KEY, which others
                     cannot see in the process list as they can a flag)
  --idempotency-key  the publish's key: a retry with the same one lands once
Prints {"epoch":…,"offset":…}. Exit code 1 when the server refuses (its error is printed), 2 for a usage error.`

export interface PublishConfig {
  channel: string
  /** The data's JSON text, or `-` for stdin. */
  data: string
  /** The API's base URL, ending in `/api`. */
  api: string
  key: string
  idempotencyKey: string | undefined
}

export function publishConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): PublishConfig {
  const { command, positionals, options } = parseArgs(argv, ['api', 'key', 'idempotency-key'])
  // A lone `-` (stdin) is not an option: the parser sees it as a positional.
  if (command === undefined || positionals.length !== 1) {
    throw new UsageError('give a channel and the data: switchboard publish CHANNEL JSON')
  }
  const text = (name: string): string | undefined => {
    const v = options[name]
    return typeof v === 'string' ? v : undefined
  }
  const key = text('key') ?? env.SWITCHBOARD_API_KEY
  if (!key) throw new UsageError('--key (or SWITCHBOARD_API_KEY) is required')
  const data = positionals[0]!
  if (data !== '-') parseData(data)
  return {
    channel: command,
    data,
    api: apiBase(text('api') ?? env.SWITCHBOARD_API ?? 'http://localhost:8080'),
    key,
    idempotencyKey: text('idempotency-key'),
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`the data must be JSON (quote text: '"hello"'), got ${text.slice(0, 40)}`)
  }
}

async function readStdin(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  let text = ''
  for await (const chunk of stdin) text += chunk.toString()
  return text
}

/** Publishes; resolves with the position, rejects with an ApiCallError when the server refuses. */
export async function publish(
  config: PublishConfig,
  stdin: AsyncIterable<Buffer | string> = process.stdin,
): Promise<{ epoch: string; offset: number }> {
  const data = parseData(config.data === '-' ? await readStdin(stdin) : config.data)
  const body: Record<string, unknown> = { channel: config.channel, data }
  if (config.idempotencyKey !== undefined) body.key = config.idempotencyKey
  return (await callApi(config.api, config.key, 'publish', body)) as { epoch: string; offset: number }
}
