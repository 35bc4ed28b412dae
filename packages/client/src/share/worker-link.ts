/**
 * Sharing through a SharedWorker: the page connects to the worker script (the same URL in every
 * tab, so they all reach one worker) and its links travel over the worker's MessagePort. The
 * worker (`share-worker.ts`) holds the multiplexers; it learns that a tab is gone from the tab's
 * liveness lock, which is held before the first message is posted.
 */
import { CloseCode } from '@switchboard/protocol'
import type { TransportName } from '../transport/fallback.js'
import { thisTab } from '../util/tab-lock.js'
import { RemoteLinks } from './remote-links.js'
import type { LinkOpener, ToHost, ToTab } from './share-messages.js'

export interface WorkerTarget {
  url: string | URL
  type: WorkerType
  key: string
  transports: readonly TransportName[] | undefined
}

export function workerLinks({ url, type, key, transports }: WorkerTarget): LinkOpener {
  const tab = thisTab()
  const worker = new SharedWorker(url, { name: 'switchboard-share', type })
  const port = worker.port
  const links = new RemoteLinks(tab.id, key, transports, (message: ToHost) => {
    // After the liveness lock is held, so the worker never mistakes this tab for a closed one.
    void tab.held.then(() => port.postMessage(message))
  })
  port.onmessage = (event: MessageEvent<ToTab>) => links.handle(event.data)
  worker.onerror = () => links.lost(CloseCode.ABNORMAL, 'the share worker failed')
  port.start()
  return links
}
