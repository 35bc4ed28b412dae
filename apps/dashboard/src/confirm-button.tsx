/**
 * A button whose action must be confirmed in a modal dialog (native `<dialog>`: focus is trapped,
 * starts on Cancel, and Escape cancels), for what cannot be undone: disconnecting a user, revoking
 * its tokens.
 */
import { type ReactNode, useRef, useState } from 'react'

export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
}: {
  label: string
  title: string
  children: ReactNode
  confirmLabel: string
  onConfirm: () => Promise<void>
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const confirm = async () => {
    setBusy(true)
    setError('')
    try {
      await onConfirm()
      dialog.current?.close()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${label}-title`} className="card">
        <h2 id={`${label}-title`}>{title}</h2>
        <div>{children}</div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={confirm} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  )
}
