import { raceSignal } from '../../src/abort.js'
import { RegistryError } from '../../src/errors/registry.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import type { AbortOptions, Registry, RegistryEntry } from '../../src/registry/types.js'

/**
 * A memory registry whose lookups the test controls: count them, make them fail, hang until aborted,
 * or wait on a gate. For tests of the mesh's own logic (federation, cache, single flight).
 */
export interface ControlledRegistry extends Registry {
  lookups: number
  mode: 'ok' | 'fail' | 'hang'
  /** When set, lookups wait for it before answering. */
  gate: Promise<void> | undefined
  /** Stores raw bytes as the answer for a name, bypassing publish checks (a hostile registry). */
  put(name: string, bytes: Uint8Array): void
}

export function controlledRegistry(id: string): ControlledRegistry {
  const inner = memoryRegistry({ id })
  const raw = new Map<string, Uint8Array>()
  const registry: ControlledRegistry = {
    id,
    lookups: 0,
    mode: 'ok',
    gate: undefined,
    put(name, bytes) {
      raw.set(name, bytes)
    },
    async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
      registry.lookups++
      if (registry.gate) await registry.gate
      if (registry.mode === 'fail') throw new RegistryError(id, 'look up', 'connection refused')
      if (registry.mode === 'hang')
        return raceSignal(new Promise<never>(() => {}), options.signal, `${id} lookup`)
      const bytes = raw.get(name)
      if (bytes !== undefined) return { bytes }
      return inner.lookup(name, options)
    },
    list: (pattern, options) => inner.list(pattern, options),
    publish: (record, options) => inner.publish(record, options),
  }
  return registry
}
