/**
 * The app shell. It reads `switchboard.json` (where the WebSocket is, relative to the page, and
 * how users sign in), then: on a server with names, the name screen (the name and this browser's
 * id go in the handshake query; both kept, so a reload goes straight back in); on a server that
 * requires JWTs, the token as identity (from `?token=`, a paste, or what this browser kept), or a
 * screen saying a token is needed. Around the chat, one SwitchboardProvider per user whose client
 * shares one connection across the tabs (`shareConnection`) and keeps what is written offline in
 * IndexedDB (`indexedDbOutbox`). The chat layout — sidebar of rooms and members, the room's header
 * with the connection badge, the message list, the typing line and the composer — is in chat.tsx.
 */
import { createBackoff, type SwitchboardClientOptions } from '@switchboard/client'
import { indexedDbOutbox } from '@switchboard/client/outbox'
import { shareConnection } from '@switchboard/client/share'
import { SwitchboardProvider } from '@switchboard/react'
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { type AppConfig, loadAppConfig } from './app-config.js'
import { Chat } from './chat.js'
import {
  browserId,
  claimsOf,
  forgetToken,
  freshestToken,
  namedMe,
  savedName,
  saveName,
  storedToken,
  storeToken,
  takePageToken,
} from './identity.js'
import { Login } from './login.js'
import { TokenMissing } from './token-screens.js'
import { userClient } from './user-client.js'

// Reconnect quickly after a restart: full jitter from 300 ms, never more than 5 s apart. Where a
// WebSocket cannot open (a proxy blocks it), fall back to SSE, then long-polling.
const CLIENT_OPTIONS: SwitchboardClientOptions = {
  backoff: createBackoff({ base: 300, max: 5000 }),
  minUptime: 2000,
  transports: ['websocket', 'sse', 'long-polling'],
}

export function App() {
  const [config, setConfig] = useState<AppConfig | undefined>(undefined)
  useEffect(() => {
    void loadAppConfig().then(setConfig)
  }, [])
  if (!config) return <main className="login" aria-busy="true" />
  return config.auth === 'jwt' ? <TokenApp url={config.url} /> : <NameApp url={config.url} />
}

/**
 * One client per user (user-client.ts): it shares its connection with this user's other tabs
 * (tabs of one browser with the same server URL and key), and its outbox is IndexedDB.
 */
function Connection({
  url,
  shareKey,
  getToken,
  children,
}: {
  url: string
  shareKey: string
  getToken?: () => string
  children: ReactNode
}) {
  const { client, lease } = userClient(`${shareKey} ${url}`, url, () => ({
    ...CLIENT_OPTIONS,
    share: shareConnection({ key: shareKey }),
    // Per user: an entry is sent by whichever client of its scope claims it, as that client's user.
    outbox: indexedDbOutbox({ scope: `${shareKey} ${url}` }),
    ...(getToken ? { getToken } : {}),
  }))
  useEffect(() => lease.acquire(), [lease])
  return <SwitchboardProvider client={client}>{children}</SwitchboardProvider>
}

/** The dev login: a typed name, unverified, made distinct per browser by its id. */
function NameApp({ url }: { url: string }) {
  const [name, setName] = useState(savedName)
  if (!name) {
    return (
      <Login
        onJoin={(chosen) => {
          saveName(chosen)
          setName(chosen)
        }}
      />
    )
  }
  const me = namedMe(name)
  const query = new URLSearchParams({ name, id: browserId() })
  return (
    <Connection key={me.userId} url={`${url}?${query}`} shareKey={me.userId}>
      <Chat
        me={me}
        onSignOut={() => {
          saveName(undefined)
          setName(undefined)
        }}
      />
    </Connection>
  )
}

/** A server that requires JWTs: the token is the identity. */
function TokenApp({ url }: { url: string }) {
  const [token, setToken] = useState(takePageToken)
  // A token stored by another tab (a new sign-in link opened there) is this tab's too.
  useEffect(() => {
    const onStorage = () => {
      const stored = storedToken()
      if (stored)
        setToken((current) =>
          current && claimsOf(current)?.sub === claimsOf(stored)?.sub ? stored : current,
        )
    }
    window.addEventListener('storage', onStorage)
    return () => window.removeEventListener('storage', onStorage)
  }, [])
  const latest = useRef(token)
  latest.current = token
  const claims = token ? claimsOf(token) : undefined
  const sub = claims?.sub ?? token ?? ''
  // Asked on every connect and before the token expires: the freshest token this browser has.
  const given = useRef<string | undefined>(undefined)
  const getToken = useMemo(
    () => () => {
      given.current = freshestToken(sub, latest.current ?? '')
      return given.current
    },
    [sub],
  )
  const lastGiven = useCallback(() => given.current, [])
  const onToken = (next: string) => {
    storeToken(next)
    setToken(next)
  }
  if (!token) return <TokenMissing onToken={onToken} />
  return (
    <Connection key={sub} url={url} shareKey={sub} getToken={getToken}>
      <Chat
        me={{ name: claims?.name ?? 'me', userId: claims?.name ?? 'me', verified: true }}
        session={{ token, expiresAt: claims?.expiresAt, onToken, given: lastGiven }}
        onSignOut={() => {
          forgetToken()
          setToken(undefined)
        }}
      />
    </Connection>
  )
}
