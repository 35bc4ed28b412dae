/** Open connections per remote address, for the per-IP cap (`maxConnectionsPerIp`). */

export class IpCounter {
  private readonly counts = new Map<string, number>()

  constructor(private readonly max: number) {}

  /** Counts a connection from `ip`; false (and nothing counted) if the cap is reached. */
  acquire(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0
    if (n >= this.max) return false
    this.counts.set(ip, n + 1)
    return true
  }

  release(ip: string): void {
    const n = this.counts.get(ip) ?? 0
    if (n <= 1) this.counts.delete(ip)
    else this.counts.set(ip, n - 1)
  }
}
