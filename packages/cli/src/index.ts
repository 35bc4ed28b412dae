/**
 * @switchboard/cli — the `switchboard` command (bin.ts), and its `serve` and `token` commands as
 * functions for programs and tests that want them in-process. `bench` runs only as the command
 * (its workers are forked from the built files); its flags and the shape of its `--json` output
 * are here.
 */
export { parseArgs, parsePort, UsageError } from './args.js'
export { BENCH_USAGE, type BenchConfig, benchConfig } from './bench/config.js'
export type { BenchResult } from './bench/report.js'
export { CONNECT_USAGE, type ConnectConfig, connect, connectConfig } from './connect.js'
export { ApiCallError, PUBLISH_USAGE, type PublishConfig, publish, publishConfig } from './publish.js'
export { type RunningServer, SERVE_CHANNELS, type ServeConfig, serve, serveConfig } from './serve.js'
export { signToken, TOKEN_USAGE, type TokenConfig, tokenConfig } from './token.js'
