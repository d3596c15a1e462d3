import { LRUCache } from 'lru-cache'
import type { Clock } from '../clock.js'
import type { RegistryOutcome } from '../errors/resolve.js'
import type { VersionMark } from '../registry/types.js'
import type { ResolveResult } from '../resolve/types.js'
import type { VerifiedRecord } from '../trust/RecordVerifier.js'

export interface CacheOptions {
  /** Most names held. @default 10000 */
  max?: number
  /** Cap on a record's own `ttlSeconds`. @default 3600 */
  maxTtlSeconds?: number
  /** How long a "not found" is remembered. @default 30 */
  negativeTtlSeconds?: number
  /** How long past its TTL a record may still be served when every registry fails. @default 3600 */
  staleIfErrorSeconds?: number
}

/** Distinct selectors remembered per cached name (callers use a few; this bounds a hostile many). */
const MAX_ANSWERS_PER_NAME = 64

export const DEFAULT_CACHE_OPTIONS: Required<CacheOptions> = {
  max: 10_000,
  maxTtlSeconds: 3_600,
  negativeTtlSeconds: 30,
  staleIfErrorSeconds: 3_600,
}

export interface FoundEntry {
  readonly kind: 'found'
  readonly verified: VerifiedRecord
  readonly registry: string
  readonly location: string | undefined
  /** Each registry's part in the lookup that filled this entry. */
  readonly report: readonly RegistryOutcome[]
  /** The registries' version marks for the name (see RegistryEntry.marks). */
  readonly marks?: Readonly<Record<string, VersionMark>>
  readonly storedAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  /** Results already computed from this record, by selector text: the warm path. */
  readonly results: Map<string, ResolveResult>
  /** Set once the entry leaves the cache (replaced, invalidated or evicted): answers held from it are void. */
  dropped: boolean
}

export interface MissingEntry {
  readonly kind: 'missing'
  readonly storedAt: number
  readonly freshUntil: number
}

export type CacheEntry = FoundEntry | MissingEntry

/**
 * The TTL cache between the marketplace and the registries. lru-cache bounds it by count; each
 * entry's own times decide here, on the mesh's clock, whether it is fresh, stale but servable
 * (stale-if-error) or past any use, in which case a read drops it. lru-cache's own TTL is off: it
 * would read the clock a second time on every warm resolve. Keys are `namespace/path`.
 */
export class ResolutionCache {
  readonly options: Required<CacheOptions>
  private readonly clock: Clock
  private readonly lru: LRUCache<string, CacheEntry>

  constructor(clock: Clock, options: CacheOptions = {}) {
    this.options = { ...DEFAULT_CACHE_OPTIONS, ...options }
    this.clock = clock
    this.lru = new LRUCache<string, CacheEntry>({
      max: this.options.max,
      dispose: (entry) => {
        if (entry.kind === 'found') entry.dropped = true
      },
    })
  }

  /** The entry for `name` while still of any use at `now`, fresh or stale. */
  peek(name: string, now = this.clock.now()): CacheEntry | undefined {
    const entry = this.lru.get(name)
    if (entry === undefined) return undefined
    if (now < (entry.kind === 'found' ? entry.staleUntil : entry.freshUntil)) return entry
    this.lru.delete(name)
    return undefined
  }

  /** Whether an entry is within its TTL at `now`. */
  isFresh(entry: CacheEntry, now = this.clock.now()): boolean {
    return now < entry.freshUntil
  }

  setFound(
    name: string,
    verified: VerifiedRecord,
    registry: string,
    location?: string,
    report: readonly RegistryOutcome[] = [],
    marks?: Readonly<Record<string, VersionMark>>,
  ): FoundEntry {
    const now = this.clock.now()
    const { ttlSeconds, expiresAt } = verified.record
    const expires = Date.parse(expiresAt)
    const freshUntil = Math.min(now + Math.min(ttlSeconds, this.options.maxTtlSeconds) * 1000, expires)
    const staleUntil = Math.min(freshUntil + this.options.staleIfErrorSeconds * 1000, expires)
    const entry: FoundEntry = {
      kind: 'found',
      verified,
      registry,
      location,
      report,
      ...(marks === undefined ? {} : { marks }),
      storedAt: now,
      freshUntil,
      staleUntil,
      results: new Map(),
      dropped: false,
    }
    this.store(name, entry, staleUntil - now)
    return entry
  }

  /** Marks `name` as recently used, as a read would. */
  touch(name: string): void {
    this.lru.get(name)
  }

  /** The answer already computed from `entry` for a selector key: the warm path. */
  answerFor(entry: FoundEntry, key: string): ResolveResult | undefined {
    return entry.results.get(key)
  }

  /** Remembers an answer computed from `entry`; returns it. */
  remember(entry: FoundEntry, key: string, result: ResolveResult): ResolveResult {
    if (entry.results.size >= MAX_ANSWERS_PER_NAME) entry.results.clear()
    entry.results.set(key, result)
    return result
  }

  setMissing(name: string): void {
    const now = this.clock.now()
    const ttl = this.options.negativeTtlSeconds * 1000
    this.store(name, { kind: 'missing', storedAt: now, freshUntil: now + ttl }, ttl)
  }

  invalidate(name: string): boolean {
    return this.lru.delete(name)
  }

  /** Drops every name in `namespace`; returns how many. */
  invalidateNamespace(namespace: string): number {
    const prefix = `${namespace.toLowerCase()}/`
    let count = 0
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix) && this.lru.delete(key)) count++
    }
    return count
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }

  private store(name: string, entry: CacheEntry, ttlMs: number): void {
    if (ttlMs <= 0) {
      this.lru.delete(name)
      return
    }
    this.lru.set(name, entry)
  }
}
