/**
 * This page's identity for the other tabs of its origin: a random id, and a Web Lock of that name
 * held for the page's life. Whoever needs to know when the page is gone (the holder of a shared
 * connection, a tab claiming another page's outbox entries) asks for the same lock: it is granted
 * only once the page has closed, crashed or navigated away — no heartbeat, no timeout.
 */

/** The name of the liveness lock of the page with this id. */
export const tabLockName = (tab: string): string => `switchboard:tab:${tab}`

/** Web Locks, where the runtime has them (browsers, their workers). */
export function webLocks(): LockManager | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManager } }).navigator
  return nav?.locks
}

/** A random id of about 72 bits, in base 36. */
export function randomId(): string {
  const bytes = new Uint8Array(9)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += b.toString(36).padStart(2, '0')
  return out
}

/** This page: its id, and a promise that settles once its liveness lock is held. */
export interface ThisTab {
  readonly id: string
  readonly held: Promise<void>
}

let tab: ThisTab | undefined

/**
 * This page (the same for every caller in it). Without Web Locks `held` resolves at once, and
 * nobody can tell when the page is gone.
 */
export function thisTab(): ThisTab {
  if (tab) return tab
  const id = randomId()
  const held = new Promise<void>((resolve) => {
    const locks = webLocks()
    if (!locks) {
      resolve()
      return
    }
    void locks.request(tabLockName(id), () => {
      resolve()
      // Held until the page goes.
      return new Promise<never>(() => {})
    })
  })
  tab = { id, held }
  return tab
}

/** Calls `gone` once the page with this id is gone. Never, without Web Locks. */
export function whenTabGone(id: string, gone: () => void): void {
  void webLocks()?.request(tabLockName(id), () => gone())
}

/** Whether the page with this id is gone now (false without Web Locks: it cannot be known). */
export async function tabGone(id: string): Promise<boolean> {
  const locks = webLocks()
  if (!locks) return false
  return locks.request(tabLockName(id), { ifAvailable: true }, (lock) => lock !== null)
}
