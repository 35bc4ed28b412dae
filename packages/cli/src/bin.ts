#!/usr/bin/env node
/**
 * The `switchboard` command. `serve` runs a server, `connect` is a client on the command line,
 * `token` signs a development JWT; `bench` is planned (see DESIGN.md; `npm run bench` in the
 * repository runs the benchmarks) and says so instead of pretending.
 */
import type { Logger } from '@switchboard/server'
import { UsageError } from './args.js'
import { CONNECT_USAGE, connect, connectConfig } from './connect.js'
import { SERVE_USAGE, serve, serveConfig } from './serve.js'
import { signToken, TOKEN_USAGE, tokenConfig } from './token.js'

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve     run a Switchboard server (in-memory broker, or Redis with --redis)
  connect   a client on the command line: print what arrives, send what is typed
  token     print an HS256 JWT for development

${SERVE_USAGE}

${CONNECT_USAGE}

${TOKEN_USAGE}`

const log: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m, err) => console.error(m, err ?? ''),
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      await serve(serveConfig(rest, process.env), log, true)
      return undefined
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return 0
    case 'token':
      console.log(await signToken(tokenConfig(rest, process.env)))
      return 0
    case 'connect':
      await connect(connectConfig(rest, process.env), process.stdin, (line) =>
        process.stdout.write(`${JSON.stringify(line)}\n`),
      )
      return 0
    case 'bench':
      console.error(`switchboard ${command}: not implemented yet`)
      return 2
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`switchboard: ${err.message}\n\n${USAGE}`)
      process.exitCode = 2
    } else {
      console.error('switchboard:', err)
      process.exitCode = 1
    }
  },
)
