/**
 * The configuration of `switchboard serve`, in layers: the file (`--config`, JSON, or YAML for
 * .yaml/.yml), then the environment (`SWITCHBOARD_*`, and the older `PORT`, `REDIS_URL`,
 * `JWT_SECRET`), then the flags. The merged result is validated once against the JSON Schema
 * that ships in schema/switchboard.schema.json (ajv, every error at once), which also fills in
 * the defaults; then the few rules a schema says badly (one JWT key, algorithms that fit it).
 * Every problem is reported with its JSON path and, for a value that came from a variable or a
 * flag, its name — as a ConfigError, which the command turns into exit code 2 before listening.
 */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { UsageError } from '../args.js'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, type SwitchboardConfig } from './config.js'
import { SETTINGS, type Setting } from './settings.js'

export interface ConfigIssue {
  /** A JSON pointer into the configuration (`/tls/cert`); `/` for the whole of it. */
  path: string
  message: string
}

/** A configuration that cannot be used; `switchboard serve` exits with code 2. */
export class ConfigError extends UsageError {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid configuration (${source}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`)
  }
}

/** The schema file, beside src/ and dist/ alike. */
export const SCHEMA_FILE = new URL('../../schema/switchboard.schema.json', import.meta.url)

/** The part of a JSON Schema that says which keys an object has, and in what order. */
interface SchemaNode {
  $ref?: string
  properties?: Record<string, SchemaNode>
  definitions?: Record<string, SchemaNode>
}

let schema: SchemaNode | undefined
let validator: ValidateFunction<SwitchboardConfig> | undefined

function loadSchema(): SchemaNode {
  schema ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode
  return schema
}

/**
 * The configuration with its keys in the schema's order (the order of docs/configuration.md),
 * whatever order the layers set them in; keys the schema does not order (channel patterns) keep theirs.
 */
export function inSchemaOrder<T>(value: T): T {
  const root = loadSchema()
  const resolve = (node: SchemaNode | undefined): SchemaNode | undefined =>
    node?.$ref?.startsWith('#/definitions/') ? root.definitions?.[node.$ref.slice(14)] : node
  const walk = (v: unknown, node: SchemaNode | undefined): unknown => {
    if (typeof v !== 'object' || v === null) return v
    if (Array.isArray(v)) return v.map((item) => walk(item, undefined))
    const props = resolve(node)?.properties ?? {}
    const entries = Object.entries(v)
    const known = Object.keys(props).filter((k) => Object.hasOwn(v, k))
    const rest = entries.map(([k]) => k).filter((k) => !Object.hasOwn(props, k))
    const out: Record<string, unknown> = {}
    for (const k of [...known, ...rest]) out[k] = walk((v as Record<string, unknown>)[k], props[k])
    return out
  }
  return walk(value, root) as T
}

function validate(): ValidateFunction<SwitchboardConfig> {
  if (!validator) {
    const schema = loadSchema()
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, useDefaults: true, strict: true })
    validator = ajv.compile<SwitchboardConfig>(schema as object)
  }
  return validator
}

/** A JSON pointer's segment (`/` and `~` escaped, as ajv writes them). */
const segment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/** Reads and parses a configuration file; what it holds is checked later, with the other layers. */
export function readConfigFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err)
    throw new ConfigError(file, [{ path: '/', message: `cannot read the file (${reason})` }])
  }
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase())
  try {
    return yaml ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new ConfigError(file, [{ path: '/', message: `not valid ${yaml ? 'YAML' : 'JSON'}: ${reason}` }])
  }
}

/** The text of a variable or a flag as the value its setting takes. */
function settingValue(setting: Setting, text: string, source: string): unknown {
  const list = () =>
    text
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '')
  switch (setting.kind) {
    case 'string':
      return text
    case 'list':
      return list()
    case 'keys':
      return list().map((key) => ({ key }))
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true
      if (/^(false|0|no|off)$/i.test(text)) return false
      throw new ConfigError(source, [
        { path: pointer(setting.key), message: `must be true or false, got "${text}"` },
      ])
    case 'integer':
    case 'number': {
      const ok = setting.kind === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/
      if (!ok.test(text.trim()))
        throw new ConfigError(source, [
          {
            path: pointer(setting.key),
            message: `must be ${setting.kind === 'integer' ? 'an integer' : 'a number'}, got "${text}"`,
          },
        ])
      return Number(text)
    }
  }
}

const pointer = (key: readonly string[]) => `/${key.map(segment).join('/')}`

/** Sets `value` at `key` in a plain object, creating the objects on the way. */
function setAt(target: Record<string, unknown>, key: readonly string[], value: unknown): void {
  let node = target
  for (const part of key.slice(0, -1)) {
    const next = Object.hasOwn(node, part) ? node[part] : undefined
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[key[key.length - 1]!] = value
}

export interface ConfigLayers {
  /** The file's path, if there is one. */
  file?: string
  env: NodeJS.ProcessEnv
  /** The flags given, by name (without dashes): text, or true for a flag without a value. */
  flags: Readonly<Record<string, string | true>>
}

/**
 * The configuration with defaults filled in — the keys `serve` always reads are then set.
 * (`channels` too: the caller puts the chat app's channels there when no layer set any.)
 */
export type EffectiveConfig = SwitchboardConfig &
  Required<
    Pick<
      SwitchboardConfig,
      | 'port'
      | 'path'
      | 'drainTimeout'
      | 'metrics'
      | 'dashboard'
      | 'transports'
      | 'rateLimit'
      | 'maxPayload'
      | 'maxBufferedBytes'
      | 'maxSubscriptions'
      | 'maxPendingRequests'
      | 'maxProtocolErrors'
      | 'heartbeat'
      | 'closeTimeout'
      | 'headersTimeout'
      | 'requestTimeout'
    >
  >

/**
 * The file, then the environment, then the flags, merged, validated against the schema (which
 * fills in the defaults), and checked. Throws a ConfigError listing every problem.
 */
export function loadConfig(layers: ConfigLayers): EffectiveConfig {
  const fromFile = layers.file === undefined ? {} : readConfigFile(layers.file)
  // Where each value set by a variable or flag came from, to name it next to its error.
  const origins = new Map<string, string>()
  const source = layers.file ?? 'defaults'
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new ConfigError(source, [{ path: '/', message: 'must be an object of keys' }])
  }
  const merged = structuredClone(fromFile) as Record<string, unknown>
  for (const setting of SETTINGS) {
    const names = [setting.env, ...(setting.legacyEnv ?? [])]
    const name = names.find((n) => layers.env[n] !== undefined && layers.env[n] !== '')
    if (name === undefined) continue
    setAt(merged, setting.key, settingValue(setting, layers.env[name]!, name))
    origins.set(pointer(setting.key), name)
  }
  for (const setting of SETTINGS) {
    if (setting.flag === undefined || !Object.hasOwn(layers.flags, setting.flag)) continue
    const given = layers.flags[setting.flag]!
    const flag = `--${setting.flag}`
    setAt(merged, setting.key, given === true ? true : settingValue(setting, given, flag))
    origins.set(pointer(setting.key), flag)
  }
  const sources = [layers.file, origins.size > 0 ? 'environment and flags' : undefined].filter(Boolean)
  const label = sources.length > 0 ? sources.join(', ') : 'defaults'
  const check = validate()
  if (!check(merged)) throw new ConfigError(label, schemaIssues(check.errors ?? [], origins))
  // The schema's defaults are filled in by the validation (useDefaults): every key of EffectiveConfig.
  const config = merged as unknown as EffectiveConfig
  const issues = ruleIssues(config)
  if (issues.length > 0) throw new ConfigError(label, withOrigins(issues, origins))
  return config
}

/** Names the variable or flag a value came from, after the issue about it. */
function withOrigins(issues: ConfigIssue[], origins: ReadonlyMap<string, string>): ConfigIssue[] {
  return issues.map((issue) => {
    const from = [...origins].find(([path]) => issue.path === path || issue.path.startsWith(`${path}/`))
    return from ? { path: issue.path, message: `${issue.message} (from ${from[1]})` } : issue
  })
}

/** ajv's errors as a path and a reason each, in words a reader of the file understands. */
function schemaIssues(errors: readonly ErrorObject[], origins: ReadonlyMap<string, string>): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const e of errors) {
    const at = e.instancePath || ''
    if (e.keyword === 'propertyNames') continue // the pattern error about the same name says more
    if (e.propertyName !== undefined) {
      issues.push({ path: `${at}/${segment(e.propertyName)}`, message: `key ${e.message ?? 'is not valid'}` })
    } else if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty: string }).additionalProperty)
      issues.push({ path: `${at}/${segment(key)}`, message: 'unknown key' })
    } else if (e.keyword === 'required') {
      const key = String((e.params as { missingProperty: string }).missingProperty)
      issues.push({ path: `${at}/${segment(key)}`, message: 'is required' })
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
      issues.push({
        path: at || '/',
        message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`,
      })
    } else {
      issues.push({ path: at || '/', message: e.message ?? e.keyword })
    }
  }
  return withOrigins(issues, origins)
}

const HMAC: ReadonlySet<string> = new Set(HMAC_ALGORITHMS)
const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS)

/**
 * What the schema does not say well: exactly one JWT key, and algorithms that fit it; exactly
 * one of redis.url, redis.cluster and redis.shards; the dashboard needs the API (it is served on
 * its port, and its keys log in).
 */
function ruleIssues(config: SwitchboardConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const redis = config.redis
  if (redis) {
    const where = (['url', 'cluster', 'shards'] as const).filter((k) => redis[k] !== undefined)
    if (where.length !== 1) {
      issues.push({
        path: where.length === 0 ? '/redis' : `/redis/${where[1]}`,
        message:
          where.length === 0
            ? 'needs one of url, cluster, shards'
            : `set only one of url, cluster, shards (${where.join(' and ')} are set)`,
      })
    }
  }
  if (config.dashboard && config.api === undefined) {
    issues.push({
      path: '/dashboard',
      message: 'needs the api section: the dashboard is served on the API port and logs in with its keys',
    })
  }
  for (const [i, key] of (config.api?.keys ?? []).entries()) {
    if (key.publishOnly && key.readOnly) {
      issues.push({ path: `/api/keys/${i}`, message: 'a key is publishOnly or readOnly, not both' })
    }
  }
  const jwt = config.jwt
  if (jwt) {
    const keys = (['secret', 'publicKey', 'publicKeyFile', 'jwksUrl'] as const).filter(
      (k) => jwt[k] !== undefined,
    )
    if (keys.length !== 1) {
      issues.push({
        path: keys.length === 0 ? '/jwt' : `/jwt/${keys[1]}`,
        message:
          keys.length === 0
            ? 'needs one of secret, publicKey, publicKeyFile, jwksUrl'
            : `set only one of secret, publicKey, publicKeyFile, jwksUrl (${keys.join(' and ')} are set)`,
      })
    } else if (keys[0] === 'secret') {
      const bad = (jwt.algorithms ?? []).find((a) => !HMAC.has(a))
      if (bad)
        issues.push({
          path: '/jwt/algorithms',
          message: `a secret verifies HS256, HS384 or HS512, not ${bad}`,
        })
    } else if (jwt.algorithms === undefined) {
      issues.push({ path: '/jwt/algorithms', message: `is required with ${keys[0]} (e.g. ["RS256"])` })
    } else {
      const bad = jwt.algorithms.find((a) => !ASYMMETRIC.has(a))
      if (bad)
        issues.push({
          path: '/jwt/algorithms',
          message: `${keys[0]} needs asymmetric algorithms, not ${bad}`,
        })
    }
  }
  return issues
}
