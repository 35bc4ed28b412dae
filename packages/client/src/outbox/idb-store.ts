/**
 * The outbox's storage: one IndexedDB database (`switchboard-outbox`) with one object store of
 * entries by id, each tagged with its outbox's scope. Every operation is its own transaction,
 * and they run in the order they were asked for (one chain), so an entry's delete never overtakes
 * its put. Where there is no IndexedDB (Node) nothing is stored and reads find nothing.
 */
const DATABASE = 'switchboard-outbox'
const STORE = 'entries'

/** A stored record: what the outbox keeps, plus its scope. */
export interface StoredRecord {
  id: string
  scope: string
  [field: string]: unknown
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

export class IdbStore {
  #db: Promise<IDBDatabase | undefined> | undefined
  #chain: Promise<unknown> = Promise.resolve()

  #open(): Promise<IDBDatabase | undefined> {
    this.#db ??= (async () => {
      const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB
      if (!idb) return undefined
      const opening = idb.open(DATABASE, 1)
      opening.onupgradeneeded = () => {
        opening.result.createObjectStore(STORE, { keyPath: 'id' })
      }
      return done(opening)
    })()
    return this.#db
  }

  /** Runs `step` on the store after every operation asked for before it. */
  #run<T>(mode: IDBTransactionMode, step: (store: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> {
    const run = this.#chain.then(async () => {
      const db = await this.#open()
      if (!db) return undefined
      return done(step(db.transaction(STORE, mode).objectStore(STORE)))
    })
    this.#chain = run.catch(() => {})
    return run
  }

  put(record: StoredRecord): Promise<unknown> {
    return this.#run('readwrite', (store) => store.put(record))
  }

  delete(id: string): Promise<unknown> {
    return this.#run('readwrite', (store) => store.delete(id))
  }

  /** The records of one scope. */
  async all(scope: string): Promise<StoredRecord[]> {
    const records = (await this.#run('readonly', (store) => store.getAll())) as StoredRecord[] | undefined
    return (records ?? []).filter((record) => record.scope === scope)
  }
}
