import { raceSignal } from '../abort.js'
import type { RegistryChange } from './types.js'

/** Fans registry changes out to every open `watch` iterator, each with its own queue. */
export interface WatchQueue {
  notify(change: RegistryChange): void
  follow(signal: AbortSignal | undefined, what: string): AsyncIterable<RegistryChange>
}

export function watchQueue(): WatchQueue {
  const watchers = new Set<(change: RegistryChange) => void>()
  return {
    notify(change) {
      for (const push of watchers) push(change)
    },
    async *follow(signal, what) {
      const queue: RegistryChange[] = []
      let wake: (() => void) | undefined
      const push = (change: RegistryChange) => {
        queue.push(change)
        wake?.()
      }
      watchers.add(push)
      try {
        while (!signal?.aborted) {
          const next = queue.shift()
          if (next !== undefined) {
            yield next
            continue
          }
          const { promise, resolve } = Promise.withResolvers<void>()
          wake = resolve
          await raceSignal(promise, signal, what).catch(() => undefined)
          wake = undefined
        }
      } finally {
        watchers.delete(push)
      }
    },
  }
}
