/**
 * The server's `event` frames as the application listens to them: by name, and all of them
 * (`onAnyEvent`, after the listeners of that name — for tools and logging).
 */
import type { EventData, EventMap, EventName } from '@switchboard/protocol'
import { PublicEmitter } from '../util/emitter.js'

type AnyListener<M extends EventMap> = (event: EventName<M>, data: EventData<M, EventName<M>>) => void

export class ServerEvents<M extends EventMap> {
  readonly byName = new PublicEmitter<M['events']>()
  readonly #any = new Set<AnyListener<M>>()

  onAny(listener: AnyListener<M>): () => void {
    this.#any.add(listener)
    return () => void this.#any.delete(listener)
  }

  /** An `event` frame: its name's listeners, then every `onAny` one. */
  emit(event: string, data: unknown): void {
    const name = event as EventName<M>
    const value = data as EventData<M, EventName<M>>
    this.byName.emit(name, value)
    for (const listener of this.#any) listener(name, value)
  }
}
