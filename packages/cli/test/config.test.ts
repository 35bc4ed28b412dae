// `switchboard serve`'s configuration: the file (JSON and YAML) against the schema, the layers
// (file < environment < flags), what a bad file does to a real process (exit 2 before listening,
// each error's JSON path), --print-config and its redaction, and a server run from a file.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  ConfigError,
  loadConfig,
  REDACTED,
  SCHEMA_FILE,
  SETTINGS,
  type SwitchboardConfig,
  serveConfig,
} from '@switchboard/cli'
import { until } from '@switchboard/testing'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { runServe, startServe } from './serve-process.js'

const dir = mkdtempSync(join(tmpdir(), 'sb-config-'))
let files = 0
/** Writes a file in the test's directory and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, `${files++}-${name}`)
  writeFileSync(path, text)
  return path
}
const json = (value: unknown, name = 'switchboard.json') => file(name, JSON.stringify(value, null, 2))

/** Every key the file may hold, once (Required: a key added to the type must be added here). */
const FULL: Required<SwitchboardConfig> = {
  $schema: './node_modules/@switchboard/cli/schema/switchboard.schema.json',
  port: 9100,
  host: '127.0.0.1',
  path: '/live',
  static: '/srv/app',
  drainTimeout: 2000,
  tls: { cert: '/etc/tls/cert.pem', key: '/etc/tls/key.pem', reloadInterval: 1000 },
  transports: { sse: false, longPolling: true },
  channels: {
    'chat:*': { history: { size: 100, ttl: '10m' }, presence: true, clientPublish: true },
    'lobby:*': { presence: 'counts' },
    'room:*': { presence: { mode: 'members', window: '250ms', grace: 0, clientUpdate: true } },
    'news:*': { history: 20, maxDataBytes: 2048 },
    'chat:admin:*': {
      clientPublish: false,
      schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    },
  },
  allowedOrigins: ['https://app.example.com'],
  maxConnectionsPerIp: 50,
  maxConnectionsPerUser: 5,
  maxConnectionsPerUserPolicy: 'closeOldest',
  rateLimit: { capacity: 100, refillPerSecond: 20.5 },
  maxPayload: 32768,
  maxBufferedBytes: 524288,
  maxSubscriptions: 64,
  maxPendingRequests: 16,
  maxProtocolErrors: 5,
  heartbeat: 15000,
  closeTimeout: 3000,
  headersTimeout: 8000,
  requestTimeout: 20000,
  jwt: {
    jwksUrl: 'https://id.example.com/.well-known/jwks.json',
    algorithms: ['RS256', 'ES256'],
    issuer: 'https://id.example.com/',
    audience: ['chat', 'api'],
    clockTolerance: 5,
    requireExp: true,
    sources: ['header', 'frame'],
    queryParam: 'access_token',
    refreshBefore: 60000,
    authTimeout: 5000,
    jwksCacheMaxAge: 300000,
    jwksCooldown: 10000,
    jwksTimeout: 2000,
    userClaim: 'preferred_username',
  },
  redis: { url: 'redis://:hunter2@redis.internal:6379/1', prefix: 'sb:', commandTimeout: 2000 },
  metrics: true,
  dashboard: true,
  api: {
    port: 9101,
    keys: [
      { key: 'api-key-0123456789abcdef' },
      { key: 'publisher-0123456789', publishOnly: true },
      { key: 'reader-0123456789abcd', readOnly: true },
    ],
  },
  webhooks: {
    receivers: [
      {
        url: 'http://app.internal/switchboard/events',
        secret: 'webhook-secret-0123456789',
        events: ['user.online', 'user.offline'],
        timeout: 2000,
        headers: { 'x-env': 'prod' },
        id: 'presence-hook',
      },
    ],
    maxRetryWait: 30000,
    grace: 2000,
  },
  proxy: {
    connect: {
      url: 'http://app.internal/switchboard/connect',
      timeout: 1000,
      concurrency: 32,
      headers: { 'x-hook-secret': 'hook-secret-value' },
      forwardHeaders: ['User-Agent'],
      forwardCookies: ['session'],
    },
    refresh: { url: 'http://app.internal/switchboard/refresh' },
    subscribe: { url: 'http://app.internal/switchboard/subscribe', channels: ['private:*'] },
    publish: { url: 'http://app.internal/switchboard/publish', channels: ['chat:*'] },
    rpc: { url: 'http://app.internal/switchboard/rpc', events: ['app:*'] },
  },
}

/** The same settings as FULL in hand-written YAML: comments, flow and block styles, a ttl unquoted. */
const FULL_YAML = `# switchboard serve --config switchboard.yaml
$schema: ./node_modules/@switchboard/cli/schema/switchboard.schema.json
port: 9100
host: 127.0.0.1
path: /live
static: /srv/app
drainTimeout: 2000
tls: { cert: /etc/tls/cert.pem, key: /etc/tls/key.pem, reloadInterval: 1000 }
transports: { sse: false, longPolling: true }
channels:
  "chat:*":
    history: { size: 100, ttl: 10m }
    presence: true
    clientPublish: true
  "lobby:*": { presence: counts }
  "room:*": { presence: { mode: members, window: 250ms, grace: 0, clientUpdate: true } }
  "news:*": { history: 20, maxDataBytes: 2048 }
  "chat:admin:*":
    clientPublish: false
    schema:
      type: object
      required: [text]
      properties: { text: { type: string } }
allowedOrigins: [https://app.example.com]
maxConnectionsPerIp: 50
maxConnectionsPerUser: 5
maxConnectionsPerUserPolicy: closeOldest
rateLimit: { capacity: 100, refillPerSecond: 20.5 }
maxPayload: 32768
maxBufferedBytes: 524288
maxSubscriptions: 64
maxPendingRequests: 16
maxProtocolErrors: 5
heartbeat: 15000
closeTimeout: 3000
headersTimeout: 8000
requestTimeout: 20000
jwt:
  jwksUrl: https://id.example.com/.well-known/jwks.json
  algorithms: [RS256, ES256]
  issuer: https://id.example.com/
  audience: [chat, api]
  clockTolerance: 5
  requireExp: true
  sources: [header, frame]
  queryParam: access_token
  refreshBefore: 60000
  authTimeout: 5000
  jwksCacheMaxAge: 300000
  jwksCooldown: 10000
  jwksTimeout: 2000
  userClaim: preferred_username
redis: { url: "redis://:hunter2@redis.internal:6379/1", prefix: "sb:", commandTimeout: 2000 }
metrics: true
dashboard: true
api:
  port: 9101
  keys:
    - key: api-key-0123456789abcdef
    - { key: publisher-0123456789, publishOnly: true }
    - { key: reader-0123456789abcd, readOnly: true }
webhooks:
  receivers:
    - url: http://app.internal/switchboard/events
      secret: webhook-secret-0123456789
      events: [user.online, user.offline]
      timeout: 2000
      headers: { x-env: prod }
      id: presence-hook
  maxRetryWait: 30000
  grace: 2000
proxy:
  connect:
    url: http://app.internal/switchboard/connect
    timeout: 1000
    concurrency: 32
    headers: { x-hook-secret: hook-secret-value }
    forwardHeaders: [User-Agent]
    forwardCookies: [session]
  refresh: { url: http://app.internal/switchboard/refresh }
  subscribe: { url: http://app.internal/switchboard/subscribe, channels: ["private:*"] }
  publish: { url: http://app.internal/switchboard/publish, channels: ["chat:*"] }
  rpc: { url: http://app.internal/switchboard/rpc, events: ["app:*"] }
`

const noLayers = { env: {}, flags: {} }

describe('the configuration file', () => {
  it('takes every key of the schema, in JSON and in YAML alike', () => {
    const fromJson = loadConfig({ ...noLayers, file: json(FULL) })
    const fromYaml = loadConfig({ ...noLayers, file: file('switchboard.yaml', FULL_YAML) })
    expect(fromJson).toMatchObject(FULL)
    expect(fromYaml).toEqual(fromJson)
    // .yml is YAML too.
    expect(loadConfig({ ...noLayers, file: file('s.yml', 'port: 1234\n') }).port).toBe(1234)
    // The schema has no key that FULL (and so the type) lacks.
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { properties: object }
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(FULL).sort())
  })

  it('fills in the defaults of the schema, and nothing where a section is absent', () => {
    const config = loadConfig({ ...noLayers, file: json({ tls: { cert: 'c', key: 'k' } }) })
    expect(config).toMatchObject({
      port: 8080,
      path: '/ws',
      drainTimeout: 10000,
      heartbeat: 25000,
      maxPayload: 65536,
      rateLimit: { capacity: 200, refillPerSecond: 100 },
      transports: { sse: true, longPolling: true },
      tls: { cert: 'c', key: 'k', reloadInterval: 5000 },
      metrics: false,
    })
    expect(config.jwt).toBeUndefined()
    expect(config.redis).toBeUndefined()
  })

  it('reports every problem at once, each with its JSON path', () => {
    const bad = {
      port: 'eighty',
      prot: 1,
      tls: { cert: 'c', crt: 'x' },
      channels: { 'no spaces': {}, 'chat:*': { history: { size: 0, ttl: '5 parsecs' } } },
      allowedOrigins: ['app.example.com'],
      jwt: { secret: 's', sources: ['cookie'] },
    }
    let error: unknown
    try {
      loadConfig({ ...noLayers, file: json(bad) })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues).toEqual(
      expect.arrayContaining([
        { path: '/prot', message: 'unknown key' },
        { path: '/port', message: 'must be integer' },
        { path: '/tls/key', message: 'is required' },
        { path: '/tls/crt', message: 'unknown key' },
        { path: '/channels/no spaces', message: expect.stringMatching(/^key must match pattern/) },
        { path: '/channels/chat:*/history/size', message: 'must be >= 1' },
        { path: '/channels/chat:*/history/ttl', message: expect.stringMatching(/^must match pattern/) },
        { path: '/allowedOrigins/0', message: expect.stringMatching(/^must match pattern/) },
        { path: '/jwt/sources/0', message: 'must be one of "header", "query", "frame"' },
      ]),
    )
    expect((error as ConfigError).issues).toHaveLength(9)
  })

  it('checks what the schema cannot say: one JWT key, with algorithms that fit it', () => {
    const issues = (jwt: object) => {
      try {
        loadConfig({ ...noLayers, file: json({ jwt }) })
        return []
      } catch (err) {
        return (err as ConfigError).issues
      }
    }
    expect(issues({ secret: 's', jwksUrl: 'https://id/jwks', algorithms: ['RS256'] })).toEqual([
      { path: '/jwt/jwksUrl', message: expect.stringContaining('set only one of') },
    ])
    expect(issues({ jwksUrl: 'https://id/jwks' })).toEqual([
      { path: '/jwt/algorithms', message: expect.stringContaining('is required with jwksUrl') },
    ])
    expect(issues({ secret: 's', algorithms: ['RS256'] })).toEqual([
      { path: '/jwt/algorithms', message: 'a secret verifies HS256, HS384 or HS512, not RS256' },
    ])
    expect(issues({ publicKeyFile: '/k.pem', algorithms: ['HS256'] })).toEqual([
      { path: '/jwt/algorithms', message: 'publicKeyFile needs asymmetric algorithms, not HS256' },
    ])
    expect(issues({})).toEqual([{ path: '/jwt', message: expect.stringContaining('needs one of') }])
  })

  it('says so when the file is missing or does not parse', () => {
    const message = (path: string) => {
      try {
        loadConfig({ ...noLayers, file: path })
        return ''
      } catch (err) {
        return (err as Error).message
      }
    }
    expect(message(join(dir, 'absent.json'))).toMatch(/\/: cannot read the file \(ENOENT\)/)
    expect(message(file('trailing.json', '{"port": 1,}'))).toMatch(/\/: not valid JSON/)
    expect(message(file('tabs.yaml', 'port: [1\n'))).toMatch(/\/: not valid YAML/)
    expect(message(file('list.json', '[1]'))).toMatch(/\/: must be an object of keys/)
  })
})

describe('layers: file < environment < flags', () => {
  it('lets a variable override the file, and a flag override both', () => {
    const path = json({
      port: 1111,
      host: '127.0.0.1',
      redis: { url: 'redis://file:6379' },
      maxPayload: 1000,
    })
    const port = (env: NodeJS.ProcessEnv, argv: string[] = []) =>
      serveConfig(['--config', path, ...argv], env).config.port
    expect(port({})).toBe(1111)
    expect(port({ PORT: '2222' })).toBe(2222)
    expect(port({ PORT: '2222', SWITCHBOARD_PORT: '3333' })).toBe(3333)
    expect(port({ PORT: '2222', SWITCHBOARD_PORT: '3333' }, ['--port', '4444'])).toBe(4444)
    const config = serveConfig(['--config', path, '--max-payload', '3000'], {
      SWITCHBOARD_REDIS_URL: 'redis://env:6379',
      REDIS_URL: 'redis://legacy:6379',
      SWITCHBOARD_MAX_PAYLOAD: '2000',
      SWITCHBOARD_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      SWITCHBOARD_SSE: 'false',
      SWITCHBOARD_API_KEYS: 'key-one-0123456789ab,key-two-0123456789ab',
    }).config
    expect(config).toMatchObject({
      host: '127.0.0.1', // from the file, untouched by the other layers
      redis: { url: 'redis://env:6379' },
      maxPayload: 3000,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      transports: { sse: false, longPolling: true },
      api: { keys: [{ key: 'key-one-0123456789ab' }, { key: 'key-two-0123456789ab' }] },
    })
  })

  it('turns off with --no-<flag> or --<flag>=false what the file or a variable turned on', () => {
    const path = json({ metrics: true, transports: { sse: true, longPolling: true } })
    const config = (env: NodeJS.ProcessEnv, argv: string[]) =>
      serveConfig(['--config', path, ...argv], env).config
    expect(config({}, []).metrics).toBe(true)
    expect(config({}, ['--no-metrics']).metrics).toBe(false)
    expect(config({ SWITCHBOARD_METRICS: 'on' }, ['--metrics=false']).metrics).toBe(false)
    expect(config({ SWITCHBOARD_METRICS: 'no' }, []).metrics).toBe(false)
    expect(config({ SWITCHBOARD_METRICS: 'no' }, ['--metrics']).metrics).toBe(true)
    expect(config({}, ['--no-sse', '--long-polling=0']).transports).toEqual({
      sse: false,
      longPolling: false,
    })
    expect(() => config({}, ['--metrics=maybe'])).toThrow(
      /\(--metrics\):\n {2}\/metrics: must be true or false, got "maybe"/,
    )
    // --no- only exists for booleans: a value flag is not negated.
    expect(() => config({}, ['--no-port'])).toThrow(/unknown option --no-port/)
  })

  it('reads a JWT public key from --jwt-public-key', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'
    const config = serveConfig(['--jwt-public-key', pem, '--jwt-algorithms', 'ES256'], {}).config
    expect(config.jwt).toMatchObject({ publicKey: pem, algorithms: ['ES256'] })
  })

  it('finds the file through SWITCHBOARD_CONFIG when --config is not given', () => {
    const path = json({ port: 5555 })
    expect(serveConfig([], { SWITCHBOARD_CONFIG: path }).config.port).toBe(5555)
    expect(serveConfig(['--config', json({ port: 6666 })], { SWITCHBOARD_CONFIG: path }).config.port).toBe(
      6666,
    )
  })

  it('names the variable or flag that brought a bad value', () => {
    const message = (argv: string[], env: NodeJS.ProcessEnv) => {
      try {
        serveConfig(argv, env)
        return ''
      } catch (err) {
        return (err as Error).message
      }
    }
    expect(message([], { SWITCHBOARD_PORT: '70000' })).toContain(
      '/port: must be <= 65535 (from SWITCHBOARD_PORT)',
    )
    expect(message(['--heartbeat', 'soon'], {})).toContain('/heartbeat: must be an integer, got "soon"')
    expect(message([], { SWITCHBOARD_METRICS: 'maybe' })).toContain('/metrics: must be true or false')
    expect(message(['--redis', 'localhost:6379'], {})).toMatch(
      /\/redis\/url: must match pattern .* \(from --redis\)/,
    )
  })

  it('has variables and flags only for keys of the schema, each read as its type', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode
    for (const setting of SETTINGS) {
      let node: SchemaNode | undefined = schema
      for (const part of setting.key) {
        const next: SchemaNode | undefined = node?.properties?.[part]
        node = next?.$ref ? schema.definitions?.[next.$ref.replace('#/definitions/', '')] : next
      }
      expect(node, setting.key.join('.')).toBeDefined()
      const types = [node?.type ?? []].flat()
      const expected = {
        integer: 'integer',
        number: 'number',
        boolean: 'boolean',
        string: 'string',
        list: 'array',
        keys: 'array',
      }
      expect(types, setting.env).toContain(expected[setting.kind])
    }
  })
})

interface SchemaNode {
  type?: string | string[]
  $ref?: string
  properties?: Record<string, SchemaNode>
  definitions?: Record<string, SchemaNode>
}

describe('switchboard serve with a bad configuration (process)', () => {
  it.each([
    ['an unknown key', { port: 0, tls: { cert: 'c', key: 'k', crt: 'x' } }, '/tls/crt: unknown key'],
    ['a wrong type', { maxPayload: '64k' }, '/maxPayload: must be integer'],
    [
      'a bad enum value',
      { jwt: { secret: 's', algorithms: ['none'] } },
      '/jwt/algorithms/0: must be one of "HS256"',
    ],
    ['a bad pattern', { allowedOrigins: ['example.com'] }, '/allowedOrigins/0: must match pattern'],
    [
      'channel patterns on a hook that decides no channel',
      { proxy: { connect: { url: 'http://127.0.0.1:1/c', channels: ['room:*'] } } },
      '/proxy/connect/channels: unknown key',
    ],
    [
      'event patterns on a channel hook',
      { proxy: { subscribe: { url: 'http://127.0.0.1:1/s', events: ['x'] } } },
      '/proxy/subscribe/events: unknown key',
    ],
  ])('stops before listening with exit code 2 for %s, naming its path', async (_, config, expected) => {
    const path = json(config)
    const run = await runServe(['--config', path, '--port', '0', '--host', '127.0.0.1'])
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toContain(`invalid configuration (${path}`)
    expect(run.stderr).toContain(expected)
    expect(run.stdout).not.toContain('listening')
  })

  it('refuses a bad variable the same way', async () => {
    const env = await runServe(['--port', '0'], { SWITCHBOARD_MAX_SUBSCRIPTIONS: '0' })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('/maxSubscriptions: must be >= 1 (from SWITCHBOARD_MAX_SUBSCRIPTIONS)')
    expect(env.stdout).not.toContain('listening')
  })

  it('serves the HTTP API of the file: its keys, publish-only ones too', async () => {
    const full = 'api-key-full-0123456789'
    const publishOnly = 'api-key-pub-0123456789'
    const served = await startServe([
      '--config',
      json({
        port: 0,
        host: '127.0.0.1',
        api: { keys: [{ key: full }, { key: publishOnly, publishOnly: true }], maxBodyBytes: 2000 },
      }),
    ])
    try {
      const base = `http://127.0.0.1:${served.port}/api`
      const call = (method: string, key: string, body: object) =>
        fetch(`${base}/${method}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const published = await call('publish', publishOnly, { channel: 'news:1', data: { n: 1 } })
      expect(published.status).toBe(200)
      expect(await published.json()).toMatchObject({ offset: 1 })
      expect((await call('info', publishOnly, {})).status).toBe(403)
      expect((await call('info', full, {})).status).toBe(200)
      expect((await call('info', 'api-key-wrong-0123456789', {})).status).toBe(401)
      // api.maxBodyBytes from the file applies.
      expect((await call('publish', full, { channel: 'news:1', data: 'x'.repeat(3000) })).status).toBe(413)
      expect(served.output()).not.toContain(full)
    } finally {
      await served.stop()
    }
  })

  it('with the API on a port of its own, logs where it is, and the main port says the API is not there', async () => {
    const key = 'api-key-own-port-0123456789'
    const served = await startServe([
      '--config',
      json({ port: 0, host: '127.0.0.1', api: { port: 0, keys: [{ key }] } }),
    ])
    try {
      const logged = /HTTP API at (http:\/\/\S+:(\d+)\/api)\//.exec(served.output())
      expect(logged, served.output()).not.toBeNull()
      expect(Number(logged![2])).not.toBe(served.port)
      const call = (base: string) =>
        fetch(`${base}/info`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{}' })
      expect((await call(logged![1]!)).status).toBe(200)
      const wrongPort = await call(`http://127.0.0.1:${served.port}/api`)
      expect(wrongPort.status).toBe(404)
      expect(await wrongPort.json()).toMatchObject({ error: { message: /listens on its own port/ } })
    } finally {
      await served.stop()
    }
  })

  it('the Python example’s switchboard.yaml is a configuration serve starts with', async () => {
    const example = fileURLToPath(
      new URL('../../../examples/python-backend/switchboard.yaml', import.meta.url),
    )
    const run = await runServe(['--config', example, '--print-config'], {})
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      proxy: { connect: { url: 'http://127.0.0.1:9000/switchboard/connect', forwardCookies: ['sid'] } },
      api: { keys: [{ key: REDACTED }] },
    })
  })

  it('with the connect hook, the user is the one the backend answered: the HTTP API finds it by user and by connection', async () => {
    const script = fileURLToPath(new URL('../../../examples/python-backend/backend.py', import.meta.url))
    const backend = spawn('/usr/bin/python3', [script, '--port', '0', '--secret', 'hook-secret'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const line = await new Promise<string>((resolve, reject) => {
      backend.once('error', reject)
      createInterface({ input: backend.stdout! }).once('line', resolve)
    })
    const hooks = `http://127.0.0.1:${(JSON.parse(line) as { listening: number }).listening}/switchboard`
    const key = 'api-key-full-0123456789'
    const served = await startServe([
      '--config',
      json({
        port: 0,
        host: '127.0.0.1',
        api: { keys: [{ key }] },
        proxy: { connect: { url: `${hooks}/connect`, headers: { 'x-switchboard-secret': 'hook-secret' } } },
      }),
    ])
    try {
      const ws = new WebSocket(`${served.url}?token=sid-alice`, 'switchboard.v1')
      const frames: Array<{ type: string; connectionId?: string }> = []
      ws.on('message', (d) => frames.push(JSON.parse(String(d))))
      await until(() => frames.some((f) => f.type === 'subscribed'))
      const connection = frames.find((f) => f.type === 'hello')!.connectionId!
      const call = async (method: string, body: object) =>
        (await fetch(`http://127.0.0.1:${served.port}/api/${method}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json())) as Record<string, unknown>
      expect(await call('subscribe', { user: 'alice', channel: 'news:1' })).toMatchObject({ subscribed: 1 })
      expect(await call('unsubscribe', { connection, channel: 'news:1' })).toMatchObject({ unsubscribed: 1 })
      ws.terminate()
    } finally {
      await served.stop()
      backend.kill()
    }
  })

  it('runs the proxy hooks of the file: with the connect hook down, a connection is closed with 1013', async () => {
    const served = await startServe([
      '--config',
      json({
        port: 0,
        host: '127.0.0.1',
        proxy: { connect: { url: 'http://127.0.0.1:1/connect', timeout: 500 } },
      }),
    ])
    try {
      const ws = new WebSocket(served.url, 'switchboard.v1')
      const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)))
      expect(code).toBe(1013)
    } finally {
      await served.stop()
    }
  })
})

describe('switchboard serve --print-config (process)', () => {
  it('prints the effective configuration as JSON, secrets redacted, and exits 0', async () => {
    const secrets = {
      jwt: 'jwt-secret-from-the-file',
      api: 'api-key-0123456789abcdef',
      hook: 'hook-secret-value',
      redis: 'hunter2',
      webhook: 'webhook-secret-abcdefgh',
    }
    const path = file(
      'switchboard.yaml',
      `port: 1111
jwt: { secret: ${secrets.jwt} }
redis: { url: "redis://app:${secrets.redis}@redis.internal:6379" }
api: { keys: [{ key: ${secrets.api} }] }
webhooks: { receivers: [{ url: "http://app.internal/events", secret: ${secrets.webhook} }] }
proxy:
  subscribe:
    url: http://app.internal/subscribe
    headers: { Authorization: "Bearer ${secrets.hook}" }
`,
    )
    const run = await runServe(['--config', path, '--print-config', '--max-payload', '4096'], {
      SWITCHBOARD_PORT: '2222',
      SWITCHBOARD_JWT_SECRET: 'jwt-secret-from-the-env',
    })
    expect(run.code, run.stderr).toBe(0)
    const printed = JSON.parse(run.stdout)
    expect(printed).toMatchObject({
      port: 2222,
      maxPayload: 4096,
      jwt: { secret: REDACTED },
      redis: { url: 'redis://app:***@redis.internal:6379' },
      api: { keys: [{ key: REDACTED }] },
      webhooks: { receivers: [{ url: 'http://app.internal/events', secret: REDACTED, timeout: 5000 }] },
      proxy: { subscribe: { url: 'http://app.internal/subscribe', headers: { Authorization: REDACTED } } },
      // The defaults are shown too: what the server would run with.
      path: '/ws',
      heartbeat: 25000,
      channels: { 'chat:*': { presence: true, clientPublish: true } },
    })
    for (const secret of [...Object.values(secrets), 'jwt-secret-from-the-env']) {
      expect(run.stdout).not.toContain(secret)
    }
    // In the schema's order, whatever order the layers set the keys in.
    const some = ['port', 'path', 'drainTimeout', 'jwt', 'redis', 'metrics', 'api', 'proxy']
    expect(Object.keys(printed).filter((k) => some.includes(k))).toEqual(some)
  })
})

describe('switchboard serve --print-config: the checks serve makes before listening', () => {
  it('exits 2 for what the schema cannot see: hooks that exclude each other, a TLS file, a channel schema', async () => {
    const cases: Array<[object, string]> = [
      [
        { jwt: { secret: 's' }, proxy: { connect: { url: 'http://app.internal/connect' } } },
        '/jwt: the proxy connect hook decides who connects',
      ],
      [{ proxy: { refresh: { url: 'http://app.internal/refresh' } } }, '/proxy/refresh: needs proxy.connect'],
      [
        { tls: { cert: join(dir, 'missing-cert.pem'), key: join(dir, 'missing-key.pem') } },
        '/tls/cert: cannot read',
      ],
      [
        { channels: { 'a:*': { schema: { type: 'objekt' } } } },
        '/channels/a:*/schema: not a valid JSON Schema',
      ],
      [
        { channels: { 'a:*': { schema: { propertis: {} } } } },
        '/channels/a:*/schema: not a valid JSON Schema',
      ],
    ]
    for (const [config, message] of cases) {
      const run = await runServe(['--config', json(config), '--print-config'], {})
      expect(run.code, JSON.stringify(config)).toBe(2)
      expect(run.stderr).toContain(message)
      expect(run.stdout).toBe('')
    }
  })
})

describe('switchboard serve --config (process)', () => {
  it('runs with the channels, origins and limits of the file', async () => {
    const served = await startServe([
      '--config',
      json({
        host: '127.0.0.1',
        path: '/rt',
        channels: {
          'news:*': {
            history: 10,
            clientPublish: true,
            maxDataBytes: 64,
            schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
          },
        },
        allowedOrigins: ['https://app.example'],
        maxSubscriptions: 1,
        transports: { sse: false },
      }),
      '--port',
      '0',
    ])
    try {
      expect(served.url).toBe(`ws://127.0.0.1:${served.port}/rt`)
      const open = (origin: string) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(served.url, 'switchboard.v1', { origin })
          ws.once('open', () => resolve(ws))
          ws.once('error', reject)
        })
      await expect(open('https://evil.example')).rejects.toThrow(/403/)
      const ws = await open('https://app.example')
      const replies = new Map<string, { ok: boolean; error?: { code: string } }>()
      ws.on('message', (d) => {
        const f = JSON.parse(String(d))
        if (f.type === 'reply') replies.set(f.id, f)
      })
      const send = (frame: object) => ws.send(JSON.stringify(frame))
      send({ type: 'subscribe', id: 's1', channel: 'news:today' })
      send({ type: 'publish', id: 'p1', channel: 'news:today', data: { text: 'hi' } })
      // The chat app's channels are replaced by the file's: chat:* takes no client publish.
      send({ type: 'publish', id: 'p2', channel: 'chat:general', data: { user: 'x', text: 'hi' } })
      send({ type: 'subscribe', id: 's2', channel: 'news:other' })
      // The channel's JSON Schema and its size bound.
      send({ type: 'publish', id: 'p3', channel: 'news:today', data: { text: 5 } })
      send({ type: 'publish', id: 'p4', channel: 'news:today', data: { text: 'x'.repeat(60) } })
      const start = Date.now()
      while (replies.size < 6 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10))
      expect(replies.get('s1')).toMatchObject({ ok: true })
      expect(replies.get('p1')).toMatchObject({ ok: true })
      expect(replies.get('p2')).toMatchObject({ ok: false, error: { code: 'forbidden' } })
      expect(replies.get('s2')).toMatchObject({ ok: false, error: { code: 'limit_exceeded' } })
      expect(replies.get('p3')).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload', details: [{ path: ['text'], message: 'must be string' }] },
      })
      expect(replies.get('p4')).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload', message: 'data is 71 bytes; "news:today" takes at most 64' },
      })
      // SSE is off: its endpoint is not served.
      expect((await fetch(`http://127.0.0.1:${served.port}/rt/sse`)).status).toBe(404)
      ws.close()
    } finally {
      expect(await served.stop()).toBe(0)
    }
  })
})

describe('docs/configuration.md', () => {
  it('documents every key of the schema, every variable and every flag', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode
    const resolve = (node: SchemaNode | undefined) =>
      node?.$ref ? schema.definitions?.[node.$ref.replace('#/definitions/', '')] : node
    // Each key as the tables write it: `tls.cert`, `jwt.userClaim`, `proxy.<hook>.url`…
    const keys: string[] = []
    for (const [key, value] of Object.entries(schema.properties ?? {})) {
      if (key === '$schema') continue
      const node = resolve(value)
      const nested = Object.entries(node?.properties ?? {})
      if (key === 'channels')
        keys.push(
          ...Object.keys(schema.definitions?.channel?.properties ?? {}).map((k) => `channels.<pattern>.${k}`),
        )
      else if (key === 'webhooks') {
        const receiver = (node?.properties?.receivers as { items?: SchemaNode } | undefined)?.items
        keys.push(...Object.keys(receiver?.properties ?? {}).map((k) => `webhooks.receivers[].${k}`))
        keys.push(...nested.filter(([k]) => k !== 'receivers').map(([k]) => `webhooks.${k}`))
      } else if (key === 'proxy')
        keys.push(...Object.keys(schema.definitions?.hook?.properties ?? {}).map((k) => `proxy.<hook>.${k}`))
      else if (key === 'api')
        keys.push('api.port', 'api.keys[].key', 'api.keys[].publishOnly', 'api.keys[].readOnly')
      else if (nested.length === 0) keys.push(key)
      else keys.push(...nested.map(([k]) => `${key}.${k}`))
    }
    for (const key of keys) expect(doc, key).toContain(`| \`${key}\``)
    for (const setting of SETTINGS) {
      expect(doc, setting.env).toContain(`\`${setting.env}\``)
      for (const legacy of setting.legacyEnv ?? []) expect(doc, legacy).toContain(`\`${legacy}\``)
      if (setting.flag) expect(doc, setting.flag).toContain(`\`--${setting.flag}\``)
    }
  })
})
