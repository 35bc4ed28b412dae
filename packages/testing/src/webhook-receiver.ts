/**
 * A webhook receiver in another language for the webhook tests: python/webhook_receiver.py on
 * Debian's python3 (standard library only), which checks each request's signature as
 * docs/webhooks.md tells a receiver to and records it. `received()` is what it got, in arrival
 * order; `fail(true)` makes it answer 503 until `fail(false)`.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../python/webhook_receiver.py', import.meta.url))

/** One request as the receiver saw it. */
export interface ReceivedWebhook {
  /** The parsed body. */
  event: { id: string; type: string; at: number; [field: string]: unknown }
  /** Whether its Switchboard-Signature checked out with the receiver's secret. */
  signed: boolean
  /** The Switchboard-Event, Switchboard-Event-Id and Switchboard-Attempt headers. */
  type: string
  id: string
  attempt: number
  /** What the receiver answered. */
  answered: number
}

export interface WebhookReceiver {
  url: string
  received(): Promise<ReceivedWebhook[]>
  /** Those it answered 200 to (what the sender counts as delivered). */
  delivered(): Promise<ReceivedWebhook[]>
  fail(failing: boolean): Promise<void>
  stop(): Promise<void>
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const child = spawn('/usr/bin/python3', [script, secret], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`webhook receiver exited with ${code}`)))
  })
  const { port } = JSON.parse(line) as { port: number }
  const base = `http://127.0.0.1:${port}`
  const received = async () => (await (await fetch(`${base}/received`)).json()) as ReceivedWebhook[]
  return {
    url: `${base}/hooks`,
    received,
    delivered: async () => (await received()).filter((r) => r.answered === 200),
    async fail(failing) {
      await fetch(`${base}/fail`, { method: 'POST', body: JSON.stringify({ fail: failing }) })
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}
