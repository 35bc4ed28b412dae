/**
 * The composer: Enter sends, Shift+Enter adds a line; typing notices go out while typing. The
 * length limit shows as the text nears it, and a text over it is not sent (never cut short
 * silently). Offline, what is written is kept and sent when the connection is back; once the
 * session has ended (a token expired or refused), nothing can be sent, and the composer says so.
 */
import { type FormEvent, type KeyboardEvent, useState } from 'react'
import { MAX_MESSAGE_LENGTH } from './chat-types.js'

/** The counter shows from this share of the limit. */
const COUNTER_FROM = 0.8

interface ComposerProps {
  room: string
  /** `offline`: kept and sent later; `ended`: cannot be sent at all. */
  mode: 'online' | 'offline' | 'ended'
  onSend: (text: string) => void
  onTyping: (typing: boolean) => void
}

export function Composer({ room, mode, onSend, onTyping }: ComposerProps) {
  const [text, setText] = useState('')
  const clean = text.trim()
  const length = [...clean].length
  const over = length - MAX_MESSAGE_LENGTH
  const sendable = clean.length > 0 && over <= 0 && mode !== 'ended'
  const submit = (event?: FormEvent) => {
    event?.preventDefault()
    if (!sendable) return
    onSend(clean)
    setText('')
    onTyping(false)
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      submit()
    }
  }
  const placeholder =
    mode === 'ended'
      ? 'Sign in again to send messages'
      : mode === 'offline'
        ? `Message #${room} — sent when you're back online`
        : `Message #${room}`
  return (
    <form className={`composer${mode === 'ended' ? ' composer-ended' : ''}`} onSubmit={submit}>
      <textarea
        aria-label={`Message #${room}`}
        aria-describedby={length >= MAX_MESSAGE_LENGTH * COUNTER_FROM ? 'composer-limit' : undefined}
        placeholder={placeholder}
        disabled={mode === 'ended'}
        rows={1}
        value={text}
        onChange={(e) => {
          setText(e.target.value)
          onTyping(e.target.value.length > 0)
        }}
        onBlur={() => onTyping(false)}
        onKeyDown={onKeyDown}
      />
      {length >= MAX_MESSAGE_LENGTH * COUNTER_FROM && (
        <span
          id="composer-limit"
          className={`limit${over > 0 ? ' limit-over' : ''}`}
          data-testid="limit"
          aria-live="polite"
        >
          {over > 0
            ? `${over.toLocaleString('en')} over the ${MAX_MESSAGE_LENGTH.toLocaleString('en')}-character limit`
            : `${length.toLocaleString('en')} / ${MAX_MESSAGE_LENGTH.toLocaleString('en')}`}
        </span>
      )}
      <button type="submit" className="send" disabled={!sendable} aria-label="Send">
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path d="M3 20.5 21 12 3 3.5l2.7 7.3L14 12l-8.3 1.2z" fill="currentColor" />
        </svg>
      </button>
    </form>
  )
}
