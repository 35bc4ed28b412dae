/**
 * The dashboard's shell: the login gate (a stored session, a `#link=` token, or the form), then
 * the navigation and the page of the route. One stats stream is opened for the session and read
 * by every page; what the session may do is asked once (`whoami`), and whether this server can
 * revoke tokens from its OpenAPI document.
 */
import { useEffect, useMemo, useState } from 'react'
import { ApiClient, apiPaths, REVOKE_PATH } from './api.js'
import { ChannelPage } from './channel-page.js'
import { Channels } from './channels.js'
import { Dashboard, type DashboardContext } from './dashboard-context.js'
import { Login } from './login.js'
import { Overview } from './overview.js'
import { href, type Route, useRoute } from './route.js'
import { endSession, openSession, type Session, storedSession, takeLinkToken } from './session.js'
import { statsStore } from './stats-store.js'
import { UserPage } from './user-page.js'
import { Users } from './users.js'

export function App() {
  const [session, setSession] = useState<Session | undefined>(storedSession)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const [linking, setLinking] = useState(() => /^#link=/.test(window.location.hash))

  useEffect(() => {
    const link = takeLinkToken()
    if (!link) return
    openSession(link).then(
      (s) => {
        setSession(s)
        setLinking(false)
      },
      () => {
        setNotice('That dashboard link has expired or is not valid: log in with a key, or make a new link.')
        setLinking(false)
      },
    )
  }, [])

  const logout = (why?: string) => {
    endSession()
    statsStore.close()
    setNotice(why)
    setSession(undefined)
  }

  if (linking) return <p className="muted center">Opening the dashboard…</p>
  if (!session) return <Login onSession={setSession} notice={notice} />
  return <LoggedIn session={session} onLogout={logout} />
}

function LoggedIn({ session, onLogout }: { session: Session; onLogout: (why?: string) => void }) {
  const route = useRoute()
  const [canRevoke, setCanRevoke] = useState(false)
  const api = useMemo(
    () => new ApiClient(session.token, () => onLogout('The session has ended: log in again.')),
    [session.token, onLogout],
  )
  useEffect(() => {
    statsStore.start(session.token, () => onLogout('The session has ended: log in again.'))
    apiPaths().then(
      (paths) => setCanRevoke(paths.has(REVOKE_PATH)),
      () => {},
    )
    return () => statsStore.close()
  }, [session.token, onLogout])

  const context: DashboardContext = {
    api,
    access: session.access,
    canAct: session.access === 'full',
    canRevoke,
  }
  return (
    <Dashboard.Provider value={context}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <div className="shell">
        <nav aria-label="Dashboard" className="nav">
          <span className="brand">Switchboard</span>
          <NavLink route={{ page: 'overview' }} current={route} label="Overview" />
          <NavLink route={{ page: 'channels' }} current={route} label="Channels" />
          <NavLink route={{ page: 'users' }} current={route} label="Users" />
          <span className="spacer" />
          <span className="badge" data-testid="access" title="What this session may do">
            {session.access === 'full' ? 'full access' : 'read-only'}
          </span>
          <button type="button" onClick={() => onLogout()}>
            Log out
          </button>
        </nav>
        <main id="main" tabIndex={-1}>
          <Page route={route} />
        </main>
      </div>
    </Dashboard.Provider>
  )
}

function NavLink({ route, current, label }: { route: Route; current: Route; label: string }) {
  const active =
    current.page === route.page ||
    (route.page === 'channels' && current.page === 'channel') ||
    (route.page === 'users' && current.page === 'user')
  return (
    <a href={href(route)} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  )
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />
    case 'channels':
      return <Channels />
    case 'channel':
      return <ChannelPage channel={route.channel} />
    case 'users':
      return <Users />
    case 'user':
      return <UserPage user={route.user} />
  }
}
