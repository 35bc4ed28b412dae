/**
 * Hash routes (`#/channels/chat:lobby`): the dashboard is static files under /dashboard/, so the
 * server needs no fallback route. `useRoute()` re-renders on navigation.
 */
import { useSyncExternalStore } from 'react'

export type Route =
  | { page: 'overview' }
  | { page: 'channels' }
  | { page: 'channel'; channel: string }
  | { page: 'users' }
  | { page: 'user'; user: string }

export function parseRoute(hash: string): Route {
  const [, page, ...rest] = hash.replace(/^#/, '').split('/')
  const arg = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined
  if (page === 'channels') return arg ? { page: 'channel', channel: arg } : { page: 'channels' }
  if (page === 'users') return arg ? { page: 'user', user: arg } : { page: 'users' }
  return { page: 'overview' }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/'
    case 'channels':
      return '#/channels'
    case 'channel':
      return `#/channels/${encodeURIComponent(route.channel)}`
    case 'users':
      return '#/users'
    case 'user':
      return `#/users/${encodeURIComponent(route.user)}`
  }
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange)
  return () => window.removeEventListener('hashchange', onChange)
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash)
  return parseRoute(hash)
}
