#!/usr/bin/env node
/**
 * The `switchboard` command. `serve` runs a server, `connect` is a client on the command line,
 * `publish` sends a message through a server's HTTP API, `revoke` revokes tokens through it,
 * `dashboard-link` prints a link that opens the operations dashboard logged in, `token` signs a development JWT, `bench` load-tests a server (a deployment, or a throw-away
 * in-process one). The side-by-side comparison with other libraries is `npm run bench` in the
 * repository, not this command. `switchboard --help` prints the overview; `switchboard <command>
 * --help` (or `-h`, or `switchboard help <command>`) prints that command's help alone.
 */
import type { Logger } from '@switchboard/server'
import { ApiCallError } from './api-call.js'
import { UsageError } from './args.js'
import { BENCH_USAGE, benchConfig } from './bench/config.js'
import { formatReport } from './bench/report.js'
import { bench } from './bench/run.js'
import { ConfigError } from './config/load-config.js'
import { CONNECT_USAGE, connect, connectConfig } from './connect.js'
import { DASHBOARD_LINK_USAGE, dashboardLink, dashboardLinkConfig, linkAccess } from './dashboard-link.js'
import { PUBLISH_USAGE, publish, publishConfig } from './publish.js'
import { REVOKE_USAGE, revoke, revokeConfig } from './revoke.js'
import { printableConfig, SERVE_USAGE, serve, serveConfig } from './serve.js'
import { signToken, TOKEN_USAGE, tokenConfig } from './token.js'

interface Command {
  summary: string
  usage: string
  /** Resolves with the exit code, or undefined for a command that keeps running (serve). */
  run(argv: string[]): Promise<number | undefined>
}

const log: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m, err) => console.error(m, err ?? ''),
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run a Switchboard server (in-memory broker, or Redis with --redis)',
    usage: SERVE_USAGE,
    run: async (argv) => {
      const config = serveConfig(argv, process.env)
      if (config.printConfig) {
        console.log(printableConfig(config))
        return 0
      }
      await serve(config, log, true)
      return undefined
    },
  },
  connect: {
    summary: 'a client on the command line: print what arrives, send what is typed',
    usage: CONNECT_USAGE,
    run: async (argv) => {
      await connect(connectConfig(argv, process.env), process.stdin, (line) =>
        process.stdout.write(`${JSON.stringify(line)}\n`),
      )
      return 0
    },
  },
  publish: {
    summary: "publish a message through a server's HTTP API",
    usage: PUBLISH_USAGE,
    run: async (argv) => {
      try {
        console.log(JSON.stringify(await publish(publishConfig(argv, process.env))))
        return 0
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err
        console.error(`switchboard: publish refused: ${err.message}`)
        return 1
      }
    },
  },
  revoke: {
    summary: "revoke a token, or a user's tokens, through a server's HTTP API",
    usage: REVOKE_USAGE,
    run: async (argv) => {
      try {
        console.log(JSON.stringify(await revoke(revokeConfig(argv, process.env))))
        return 0
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err
        console.error(`switchboard: revoke refused: ${err.message}`)
        return 1
      }
    },
  },
  'dashboard-link': {
    summary: 'print a short-lived link that opens the operations dashboard logged in',
    usage: DASHBOARD_LINK_USAGE,
    run: async (argv) => {
      try {
        const config = await linkAccess(dashboardLinkConfig(argv, process.env), (line) => console.error(line))
        console.log(dashboardLink(config))
        return 0
      } catch (err) {
        if (!(err instanceof ApiCallError)) throw err
        console.error(`switchboard: dashboard-link refused: ${err.message}`)
        return 1
      }
    },
  },
  token: {
    summary: 'print an HS256 JWT for development',
    usage: TOKEN_USAGE,
    run: async (argv) => {
      console.log(await signToken(tokenConfig(argv, process.env)))
      return 0
    },
  },
  bench: {
    summary: 'load-test a server: fan-out, delivery, order and latency',
    usage: BENCH_USAGE,
    run: async (argv) => {
      const config = benchConfig(argv, process.env)
      const result = await bench(config, config.json ? undefined : (line) => console.error(line))
      console.log(config.json ? JSON.stringify(result) : formatReport(result))
      return result.ok ? 0 : 1
    },
  },
}

const USAGE = `Usage: switchboard <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`)
  .join('\n')}

Run \`switchboard <command> --help\` for one command's options.

${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n\n')}`

const isHelp = (arg: string) => arg === '--help' || arg === '-h'

/** The command named by `argv[0]`, if there is one (an own key: `toString` is not a command). */
function commandOf(name: string | undefined): Command | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
}

async function main(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv
  if (name === undefined || isHelp(name) || (name === 'help' && rest.length === 0)) {
    console.log(USAGE)
    return 0
  }
  if (name === 'help') {
    const command = commandOf(rest[0])
    if (!command) throw new UsageError(`unknown command "${rest[0]}"`)
    console.log(command.usage)
    return 0
  }
  const command = commandOf(name)
  if (!command) throw new UsageError(`unknown command "${name}"`)
  // Help wins over everything else on the line, so `serve --port x --help` still explains --port.
  if (rest.some(isHelp)) {
    console.log(command.usage)
    return 0
  }
  return command.run(rest)
}

const argv = process.argv.slice(2)
main(argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      // Each problem on its own line with its JSON path; the usage would only bury them.
      console.error(`switchboard: ${err.message}`)
      process.exitCode = 2
    } else if (err instanceof UsageError) {
      // A mistake in one command's options is followed by that command's usage, not everyone's.
      const usage = argv[0] === 'help' ? USAGE : (commandOf(argv[0])?.usage ?? USAGE)
      console.error(`switchboard: ${err.message}\n\n${usage}`)
      process.exitCode = 2
    } else {
      console.error('switchboard:', err)
      process.exitCode = 1
    }
  },
)
