/**
 * A lease on something that must run while anyone holds it: a connection, a subscription. The
 * first `acquire()` starts it; the last release stops it one task later, so React StrictMode's
 * mount → unmount → mount (all in one commit) re-acquires before anything stops, and exactly one
 * connection or subscribe goes out. A release that nobody follows up stops it for real.
 */
export class Lease {
  readonly #start: () => void
  readonly #stop: () => void
  #holders = 0
  #running = false
  #stopTimer: ReturnType<typeof setTimeout> | undefined

  constructor(start: () => void, stop: () => void) {
    this.#start = start
    this.#stop = stop
  }

  get running(): boolean {
    return this.#running
  }

  /** Holds the lease; returns the release function (calling it twice releases once). */
  acquire(): () => void {
    this.#holders++
    if (this.#stopTimer !== undefined) {
      clearTimeout(this.#stopTimer)
      this.#stopTimer = undefined
    }
    if (!this.#running) {
      this.#running = true
      this.#start()
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.#holders--
      if (this.#holders > 0) return
      this.#stopTimer = setTimeout(() => {
        this.#stopTimer = undefined
        if (this.#holders > 0 || !this.#running) return
        this.#running = false
        this.#stop()
      }, 0)
    }
  }
}
