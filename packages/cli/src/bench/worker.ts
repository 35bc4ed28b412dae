/**
 * A `switchboard bench` worker process (forked by fleet.ts, never imported): holds its share
 * of the subscribers so that no process needs more open files than the machine allows. Told what
 * to do over the IPC channel; reports when connected, its deliveries as they grow, and its
 * counts at the end. It exits when told to stop, or as soon as the orchestrator goes away.
 */
import type { FromWorker, ToWorker } from './shared.js'
import { Subscribers } from './subscribers.js'

/** How often the delivery count is reported, so the orchestrator knows when all have arrived. */
const PROGRESS_MS = 50

let subscribers: Subscribers | undefined
let progress: NodeJS.Timeout | undefined

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) resolve()
    else process.send?.(message, undefined, {}, () => resolve())
  })
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  subscribers = new Subscribers(message.target)
  const stats = await subscribers.connect(message.clients, message.connectTimeoutMs)
  await send({ type: 'connected', stats })
  let reported = -1
  progress = setInterval(() => {
    const delivered = subscribers?.delivered ?? 0
    if (delivered === reported) return
    reported = delivered
    void send({ type: 'progress', delivered })
  }, PROGRESS_MS)
}

async function stop(): Promise<void> {
  clearInterval(progress)
  if (subscribers) {
    const stats = subscribers.stats()
    await subscribers.close()
    await send({ type: 'result', stats })
  }
  process.exit(0)
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start') void start(message)
  else if (message.type === 'stop') void stop()
})
process.on('disconnect', () => {
  void subscribers?.close()
  process.exit(0)
})
