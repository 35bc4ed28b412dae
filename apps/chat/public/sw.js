/**
 * The chat app's service worker: the app itself offline. The app's own GETs (its page, scripts,
 * styles, `switchboard.json`) go to the network first, and each answer is kept; when the network
 * is gone the kept copy answers, so a reload while offline still opens the app — with its name,
 * its room, and the outbox of what was written and not yet sent. Messages are not cached here:
 * the WebSocket does not pass through a service worker, and the SSE and long-polling transports'
 * requests, and the server API's, are left alone.
 */
const CACHE = 'switchboard-chat'

/**
 * On install, keeps the page and what it loads (its hashed scripts and styles), and the server's
 * `switchboard.json`: the page that registered this worker was loaded before it existed.
 */
async function keepTheApp() {
  const cache = await caches.open(CACHE)
  const scope = new URL(self.registration.scope)
  const page = await fetch(scope, { cache: 'no-cache' })
  if (!page.ok) return
  const html = await page.clone().text()
  await cache.put(scope.pathname, page)
  const files = [...html.matchAll(/(?:src|href)="(\.?\/?assets\/[^"]+)"/g)].map(
    (m) => new URL(m[1], scope).href,
  )
  await Promise.all(
    [...files, new URL('switchboard.json', scope).href].map((url) =>
      fetch(url).then(
        (res) => (res.ok ? cache.put(url, res) : undefined),
        () => undefined,
      ),
    ),
  )
}

self.addEventListener('install', (event) => {
  event.waitUntil(keepTheApp().catch(() => {}))
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim())
})

/** Requests this worker answers: same-origin GETs under its scope, not the transports' or the API's. */
function isAppRequest(request) {
  if (request.method !== 'GET') return false
  const url = new URL(request.url)
  const scope = new URL(self.registration.scope)
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return false
  return !/\/(sse|poll)(\/|$)|\/api\//.test(url.pathname)
}

/**
 * How long the network has to answer before the kept copy does: a network gone dark (nothing
 * refused, nothing answered) must not hold a reload forever. The network's answer, when it comes,
 * still refreshes the kept copy.
 */
const NETWORK_WAIT_MS = 3000

self.addEventListener('fetch', (event) => {
  const { request } = event
  if (!isAppRequest(request)) return
  // A page is kept without its query (a `?token=` must not be stored, and any query opens the app).
  const key = request.mode === 'navigate' ? new URL(request.url).pathname : request
  const network = fetch(request).then((response) => {
    if (response.ok && response.type === 'basic') {
      const copy = response.clone()
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)))
    }
    return response
  })
  const kept = async () => (await caches.match(key)) ?? network
  const late = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS)).then(kept)
  event.respondWith(Promise.race([network, late]).catch(kept))
})
