/**
 * `switchboard dashboard-link`: prints a link that opens the operations dashboard logged in — a
 * token signed with an API key (HMAC, made here: the key never leaves this machine) that expires
 * after `--ttl` seconds and is good only for opening a session. The token is in the URL's fragment
 * (`#link=`), which browsers do not send to servers or put in logs.
 */
import { signDashboardLink } from '@switchboard/server'
import { ApiCallError, apiBase, callApi } from './api-call.js'
import { parseArgs, UsageError } from './args.js'

export const DASHBOARD_LINK_USAGE = `Usage: switchboard dashboard-link [--api URL] [--key K] [--ttl 600] [--read-only]

  --api        the server whose API serves the dashboard: http://host:port (default:
               $SWITCHBOARD_API, else http://localhost:8080)
  --key        an API key of that server (default: $SWITCHBOARD_API_KEY); the link grants what
               the key grants, never more
  --ttl        seconds the link may be opened in (default 600); the session it opens lasts 12 hours
  --read-only  the session may read and not act, even with a full key
Asks the server what the key may do first (a read-only key makes a read-only link; a
publish-only one none). Prints http://host:port/dashboard/#link=TOKEN.`

export interface DashboardLinkConfig {
  /** The API's base URL, ending in `/api`. */
  api: string
  /** The dashboard's URL, ending in `/dashboard/`. */
  dashboard: string
  key: string
  ttlSeconds: number
  readOnly: boolean
}

export function dashboardLinkConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): DashboardLinkConfig {
  const { command, options } = parseArgs(argv, ['api', 'key', 'ttl'], ['read-only'])
  if (command !== undefined) throw new UsageError(`unexpected argument "${command}"`)
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined)
  const key = text('key') ?? env.SWITCHBOARD_API_KEY
  if (!key) throw new UsageError('--key (or SWITCHBOARD_API_KEY) is required')
  const ttl = text('ttl') ?? '600'
  if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 86_400) {
    throw new UsageError(`--ttl must be a number of seconds from 1 to 86400, got "${ttl}"`)
  }
  const api = apiBase(text('api') ?? env.SWITCHBOARD_API ?? 'http://localhost:8080')
  return {
    api,
    dashboard: `${api.slice(0, -'/api'.length)}/dashboard/`,
    key,
    ttlSeconds: Number(ttl),
    readOnly: options['read-only'] === true,
  }
}

/**
 * What the key may do, as the server says (`POST /api/whoami`): a link is signed for no more
 * than that — a read-only key gets a read-only link (with a note on stderr) instead of one the
 * server would refuse; a publish-only key cannot open the dashboard (an ApiCallError 403).
 */
export async function linkAccess(
  config: DashboardLinkConfig,
  note: (line: string) => void,
): Promise<DashboardLinkConfig> {
  const { access } = (await callApi(config.api, config.key, 'whoami', {})) as { access: string }
  if (access === 'publish') {
    throw new ApiCallError(403, 'forbidden', 'a publish-only key cannot open the dashboard')
  }
  if (access === 'read' && !config.readOnly) {
    note('switchboard: this key is read-only: the link opens a read-only session')
    return { ...config, readOnly: true }
  }
  return config
}

/** The link: the dashboard's URL with the signed token in its fragment. */
export function dashboardLink(config: DashboardLinkConfig, now = Date.now()): string {
  const token = signDashboardLink(config.key, {
    ttlSeconds: config.ttlSeconds,
    access: config.readOnly ? 'read' : 'full',
    now,
  })
  return `${config.dashboard}#link=${token}`
}
