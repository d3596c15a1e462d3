import type { Logger } from './logger.js'
import type { ResolveSource } from './resolve/types.js'

/** A resolve finished (through the marketplace, the cache or the registries). */
export interface ResolveEvent {
  /** `namespace/path`, as asked (the selector left out). */
  readonly name: string
  readonly outcome: 'ok' | 'error'
  /** Where the answer came from, when there was one. */
  readonly source?: ResolveSource
  readonly version?: string
  /** The `MeshError` code of a failed resolve. */
  readonly code?: string
  /** On the mesh's clock. */
  readonly durationMs: number
}

/** A governed call finished (one event per `mesh.call`, whatever the number of attempts). */
export interface CallEvent {
  readonly name: string
  readonly outcome: 'ok' | 'error'
  readonly principal: string
  readonly version?: string
  readonly providerId?: string
  readonly endpoint?: string
  readonly invocationId?: string
  readonly attempts?: number
  readonly replayed?: boolean
  /** The charge's amount and currency, for a completed call. */
  readonly charge?: { readonly amount: string; readonly currency: string }
  readonly code?: string
  readonly message?: string
  readonly durationMs: number
}

/** A record was published through this mesh. */
export interface PublishEvent {
  readonly name: string
  readonly id: string
  readonly seq: number
  /** Registry ids that stored it. */
  readonly registries: readonly string[]
}

/** A registry (or a service's registry) reported names or namespaces changed. */
export interface ChangeEvent {
  readonly registry: string
  readonly names: readonly string[]
  readonly namespaces: readonly string[]
  readonly reason?: string
}

/** Every event `mesh.events` carries, by type. Services add their own through {@link MeshEvents.emit}. */
export interface MeshEventMap {
  resolve: ResolveEvent
  call: CallEvent
  publish: PublishEvent
  change: ChangeEvent
  /** A service's own events (`peer:gossip`, `peer:connect`, ...): `{ type, ...detail }`. */
  service: { readonly type: string; readonly [key: string]: unknown }
}

export type MeshEventType = keyof MeshEventMap
export type MeshEventListener<K extends MeshEventType> = (event: MeshEventMap[K]) => void

/**
 * The mesh's event bus: what resolves, calls, publishes and registry changes happened, for metrics,
 * live feeds and services that react to records (the MCP server's `tools/list_changed`). Listeners
 * run synchronously and must not throw; one that does is logged and the others still run. Emitting
 * with no listener costs one map read, so the warm resolve path pays nothing.
 *
 * @example
 * ```ts
 * const off = mesh.events.on('call', (e) => console.log(e.name, e.outcome, e.durationMs))
 * off()
 * ```
 */
export class MeshEvents {
  private readonly listeners = new Map<MeshEventType, Set<(event: never) => void>>()

  constructor(private readonly log?: Logger) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends MeshEventType>(type: K, listener: MeshEventListener<K>): () => void {
    if (typeof listener !== 'function') throw new TypeError('mesh.events.on: listener must be a function')
    let set = this.listeners.get(type)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(type, set)
    }
    set.add(listener as (event: never) => void)
    return () => {
      set.delete(listener as (event: never) => void)
    }
  }

  /** True when someone listens for `type` (so a caller can skip building the event). */
  has(type: MeshEventType): boolean {
    const set = this.listeners.get(type)
    return set !== undefined && set.size > 0
  }

  emit<K extends MeshEventType>(type: K, event: MeshEventMap[K]): void {
    const set = this.listeners.get(type)
    if (set === undefined || set.size === 0) return
    for (const listener of [...set]) {
      try {
        ;(listener as MeshEventListener<K>)(event)
      } catch (err) {
        this.log?.error('a %s listener threw: %o', type, err)
      }
    }
  }

  /** Removes every listener (the mesh does this when it closes). */
  clear(): void {
    this.listeners.clear()
  }
}
