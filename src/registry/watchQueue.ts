import type { RegistryChange } from './types.js'

/** Fans registry changes out to every open `watch` iterator, each with its own queue. */
export interface WatchQueue {
  notify(change: RegistryChange): void
  follow(signal: AbortSignal | undefined, what: string): AsyncIterable<RegistryChange>
}

export interface WatchQueueOptions {
  /**
   * Keep the changes notified while nobody watches (at most this many; older ones are merged) and
   * hand them to the next watcher: for a registry whose changes since its last run are read before
   * the mesh follows its watch. @default 0 (changes nobody watches are dropped)
   */
  backlog?: number
}

export function watchQueue(options: WatchQueueOptions = {}): WatchQueue {
  const watchers = new Set<(change: RegistryChange) => void>()
  const max = options.backlog ?? 0
  let backlog: RegistryChange[] = []
  return {
    notify(change) {
      if (watchers.size === 0 && max > 0) {
        backlog.push(change)
        if (backlog.length > max) backlog = [merge(backlog)]
        return
      }
      for (const push of watchers) push(change)
    },
    async *follow(signal) {
      const queue: RegistryChange[] = backlog
      backlog = []
      let wake: (() => void) | undefined
      const push = (change: RegistryChange) => {
        queue.push(change)
        wake?.()
      }
      // One abort listener for the whole watch, not one per change waited for.
      const onAbort = () => wake?.()
      watchers.add(push)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        while (!signal?.aborted) {
          const next = queue.shift()
          if (next !== undefined) {
            yield next
            continue
          }
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
        }
      } finally {
        watchers.delete(push)
        signal?.removeEventListener('abort', onAbort)
      }
    },
  }
}

/** One change naming every name and namespace of `changes`. */
function merge(changes: readonly RegistryChange[]): RegistryChange {
  const names = new Set(changes.flatMap((c) => c.names))
  const namespaces = new Set(changes.flatMap((c) => c.namespaces ?? []))
  return {
    names: [...names],
    ...(namespaces.size > 0 ? { namespaces: [...namespaces] } : {}),
    reason: 'backlog',
  }
}
