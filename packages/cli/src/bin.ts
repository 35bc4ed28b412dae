#!/usr/bin/env node
/**
 * The `switchboard` command. `serve` runs a server, `connect` is a client on the command line,
 * `token` signs a development JWT, `bench` load-tests a server (a deployment, or a throw-away
 * in-process one). The side-by-side comparison with other libraries is `npm run bench` in the
 * repository, not this command.
 */
import type { Logger } from '@switchboard/server'
import { UsageError } from './args.js'
import { bench } from './bench.js'
import { BENCH_USAGE, benchConfig } from './bench-config.js'
import { formatReport } from './bench-report.js'
import { CONNECT_USAGE, connect, connectConfig } from './connect.js'
import { SERVE_USAGE, serve, serveConfig } from './serve.js'
import { signToken, TOKEN_USAGE, tokenConfig } from './token.js'

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve     run a Switchboard server (in-memory broker, or Redis with --redis)
  connect   a client on the command line: print what arrives, send what is typed
  token     print an HS256 JWT for development
  bench     load-test a server: fan-out, delivery, order and latency

${SERVE_USAGE}

${CONNECT_USAGE}

${TOKEN_USAGE}

${BENCH_USAGE}`

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
    case 'bench': {
      const config = benchConfig(rest, process.env)
      const result = await bench(config, config.json ? undefined : (line) => console.error(line))
      console.log(config.json ? JSON.stringify(result) : formatReport(result))
      return result.ok ? 0 : 1
    }
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
