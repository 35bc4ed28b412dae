/** The first screen: pick a display name (kept in localStorage for next time). */
import { type FormEvent, useState } from 'react'

export function Login({ onJoin }: { onJoin: (name: string) => void }) {
  const [name, setName] = useState(() => localStorage.getItem('switchboard.name') ?? '')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const clean = name.trim().replace(/\s+/g, ' ').slice(0, 32)
    if (clean) onJoin(clean)
  }
  return (
    <main className="login">
      <form className="login-card" onSubmit={submit}>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Switchboard
        </div>
        <h1>Welcome to the chat</h1>
        <p className="muted">Pick a name; everyone in your rooms will see it.</p>
        <label htmlFor="name">Display name</label>
        <input
          id="name"
          name="name"
          autoComplete="nickname"
          maxLength={32}
          placeholder="e.g. Ada Lovelace"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" className="primary" disabled={!name.trim()}>
          Start chatting
        </button>
      </form>
    </main>
  )
}
