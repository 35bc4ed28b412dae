/** The composer: Enter sends, Shift+Enter adds a line; typing notices go out while typing. */
import { type FormEvent, type KeyboardEvent, useState } from 'react'

interface ComposerProps {
  room: string
  offline: boolean
  onSend: (text: string) => void
  onTyping: (typing: boolean) => void
}

export function Composer({ room, offline, onSend, onTyping }: ComposerProps) {
  const [text, setText] = useState('')
  const submit = (event?: FormEvent) => {
    event?.preventDefault()
    const clean = text.trim()
    if (!clean) return
    onSend(clean.slice(0, 4000))
    setText('')
    onTyping(false)
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      submit()
    }
  }
  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        aria-label={`Message #${room}`}
        placeholder={offline ? `Message #${room} — sent when you're back online` : `Message #${room}`}
        rows={1}
        value={text}
        onChange={(e) => {
          setText(e.target.value)
          onTyping(e.target.value.length > 0)
        }}
        onBlur={() => onTyping(false)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="send" disabled={!text.trim()} aria-label="Send">
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path d="M3 20.5 21 12 3 3.5l2.7 7.3L14 12l-8.3 1.2z" fill="currentColor" />
        </svg>
      </button>
    </form>
  )
}
