/**
 * @switchboard/cli — the `switchboard` command (bin.ts), and its `serve` command as a function
 * for programs and tests that want the same server in-process.
 */
export { parseArgs, parsePort, UsageError } from './args.js'
export { type RunningServer, SERVE_CHANNELS, type ServeConfig, serve, serveConfig } from './serve.js'
