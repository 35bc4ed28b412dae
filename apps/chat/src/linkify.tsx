/**
 * Message text with its web addresses as links. Only http(s) and `www.` addresses are linked (never
 * `javascript:` or other schemes), opened in a new tab without the opener; a trailing full stop,
 * comma or closing bracket stays text, as a reader means it.
 */
import type { ReactNode } from 'react'

const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi
const TRAILING = /[.,;:!?)\]}'"]+$/

export function linkify(text: string): ReactNode[] {
  const parts: ReactNode[] = []
  let last = 0
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0
    const raw = match[0]
    const trail = TRAILING.exec(raw)?.[0] ?? ''
    const shown = raw.slice(0, raw.length - trail.length)
    if (shown.length === 0) continue
    if (start > last) parts.push(text.slice(last, start))
    const href = shown.startsWith('www.') ? `https://${shown}` : shown
    parts.push(
      <a key={start} href={href} target="_blank" rel="noopener noreferrer">
        {shown}
      </a>,
    )
    last = start + shown.length
  }
  if (last < text.length) parts.push(text.slice(last))
  return parts
}
