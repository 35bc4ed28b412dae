/**
 * @switchboard/cli — the `switchboard` command (bin.ts), and its `serve`, `token`, `publish` and
 * `revoke` commands as functions for programs and tests that want them in-process; `serve`'s
 * configuration loader, and
 * its JSON Schema as `@switchboard/cli/schema.json`. `bench` runs only as the command
 * (its workers are forked from the built files); its flags and the shape of its `--json` output
 * are here.
 */

export { ApiCallError } from './api-call.js'
export { parseArgs, parsePort, UsageError } from './args.js'
export { BENCH_USAGE, type BenchConfig, benchConfig } from './bench/config.js'
export type { BenchResult } from './bench/report.js'
export type {
  ApiConfig,
  ChannelConfig,
  HookConfig,
  JwtConfig,
  ProxyConfig,
  RedisConfig,
  SwitchboardConfig,
  TlsConfig,
} from './config/config.js'
export {
  ConfigError,
  type ConfigIssue,
  type ConfigLayers,
  type EffectiveConfig,
  loadConfig,
  readConfigFile,
  SCHEMA_FILE,
} from './config/load-config.js'
export { REDACTED, redactConfig } from './config/redact.js'
export { CONFIG_ENV, SETTINGS, type Setting, type SettingKind } from './config/settings.js'
export {
  type ServeOptions,
  type ServeParts,
  type ServeUser,
  switchboardOptions,
} from './config/switchboard-options.js'
export { CONNECT_USAGE, type ConnectConfig, connect, connectConfig } from './connect.js'
export { PUBLISH_USAGE, type PublishConfig, publish, publishConfig } from './publish.js'
export { REVOKE_USAGE, type RevokeConfig, revoke, revokeConfig } from './revoke.js'
export {
  printableConfig,
  type RunningServer,
  SERVE_CHANNELS,
  type ServeConfig,
  serve,
  serveConfig,
} from './serve.js'
export { signToken, TOKEN_USAGE, type TokenConfig, tokenConfig } from './token.js'
