/**
 * The live stats: one `GET /api/stats/stream` for the whole dashboard (every widget reads this
 * store; none polls), the samples of the last 15 minutes kept for the charts, and whether the
 * stream is live. React reads it with `useStats()` (useSyncExternalStore).
 */
import { useSyncExternalStore } from 'react'
import { API_BASE } from './api.js'
import type { StatsSample } from './api-types.js'
import { openEventStream } from './event-stream.js'

const WINDOW_MS = 15 * 60 * 1000

export interface StatsState {
  samples: readonly StatsSample[]
  latest: StatsSample | undefined
  live: boolean
}

export class StatsStore {
  private state: StatsState = { samples: [], latest: undefined, live: false }
  private readonly listeners = new Set<() => void>()
  private stop: (() => void) | undefined

  start(bearer: string, onRefused: () => void): void {
    this.stop?.()
    this.stop = openEventStream(`${API_BASE}stats/stream`, bearer, {
      onEvent: (event, data) => {
        if (event === 'backlog') this.add(data as StatsSample[], true)
        else if (event === 'sample') this.add([data as StatsSample], false)
      },
      onState: (live) => this.set({ ...this.state, live }),
      onRefused,
    })
  }

  close(): void {
    this.stop?.()
    this.stop = undefined
  }

  private add(samples: StatsSample[], replace: boolean): void {
    const newest = samples[samples.length - 1]?.at ?? Date.now()
    const kept = (replace ? samples : [...this.state.samples, ...samples]).filter(
      (s) => s.at > newest - WINDOW_MS,
    )
    this.set({ samples: kept, latest: kept[kept.length - 1], live: true })
  }

  private set(state: StatsState): void {
    this.state = state
    for (const listener of this.listeners) listener()
  }

  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  readonly snapshot = () => this.state
}

export const statsStore = new StatsStore()

export function useStats(): StatsState {
  return useSyncExternalStore(statsStore.subscribe, statsStore.snapshot)
}
