/** Entry point of the chat app. */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'
import './styles.css'

// The app itself offline (public/sw.js): a reload without a network still opens it, with its outbox.
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('./sw.js').catch(() => {})

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
