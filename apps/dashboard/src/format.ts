/** How numbers, sizes, durations and times are written on the dashboard. */

export const count = (n: number) => n.toLocaleString('en-US')

export const rate = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'))

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`
}

export const time = (ms: number) => new Date(ms).toLocaleTimeString('en-GB')

export const dateTime = (ms: number) =>
  new Date(ms).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' })

/** A message's data as one line of JSON, cut short. */
export function preview(data: unknown, max = 200): string {
  const text = JSON.stringify(data) ?? String(data)
  return text.length > max ? `${text.slice(0, max)}…` : text
}
