/**
 * `useLatest(value)`: a ref that always holds the value of the last committed render. Callback
 * options go through it, so a new function identity on every render never re-runs an effect
 * (which would mean a reconnect or a resubscribe).
 */
import { type RefObject, useEffect, useLayoutEffect, useRef } from 'react'

// useLayoutEffect warns during server rendering; there is nothing to sync there anyway.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect

export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value)
  useIsomorphicLayoutEffect(() => {
    ref.current = value
  })
  return ref
}
