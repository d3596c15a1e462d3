import { LRUCache } from 'lru-cache'
import type { Clock } from '../clock.js'
import { canonicalBytes, canonicalText } from '../record/codec.js'
import type { FunctionRecord } from '../record/schema.js'
import { wasTakenAsIs } from '../record/validate.js'
import type { VersionMark } from '../registry/types.js'
import type { ResolveResult, ResolveSource, Verification } from '../resolve/types.js'
import type { VerifiedRecord } from '../trust/RecordVerifier.js'
import { type ShareTables, sharedRecord, shareTables } from './_sharedRecord.js'

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

/** Distinct verification facts remembered (publishers, namespaces and seqs repeat; bounds a hostile many). */
const MAX_VERIFICATIONS = 4096

/** Registries whose shared answer source is remembered (a mesh has a few). */
const MAX_SOURCES = 64

export const DEFAULT_CACHE_OPTIONS: Required<CacheOptions> = {
  max: 10_000,
  maxTtlSeconds: 3_600,
  negativeTtlSeconds: 30,
  staleIfErrorSeconds: 3_600,
}

const decoder = new TextDecoder()

/** A verified record's cached form, and the bytes it was made from. */
interface SharedForm {
  readonly record: FunctionRecord
  readonly bytes: Uint8Array | undefined
  readonly from: Uint8Array
}

/**
 * A cached record: the parsed record only, its repeating parts shared with other entries (see
 * `sharedRecord`). The canonical bytes are derived again when needed ({@link ResolutionCache.bytesOf});
 * they are kept only for a record whose parsed form does not re-encode to them.
 */
export interface FoundEntry {
  readonly kind: 'found'
  readonly record: FunctionRecord
  /** CIDv1 of the record's canonical bytes. */
  readonly id: string
  /** How the record was verified (owner key, trust source): the one object every answer from it shares. */
  readonly verification: Verification
  /** The canonical bytes, only when re-encoding `record` would not give them back. */
  readonly bytes: Uint8Array | undefined
  /** The registry the record came from (where in it, and each registry's part, went with the first answer). */
  readonly registry: string
  /** The registries' version marks for the name (see RegistryEntry.marks). */
  readonly marks: Readonly<Record<string, VersionMark>> | undefined
  /** These three are on the cache's timeline ({@link ResolutionCache.now}). */
  readonly storedAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  /** The first answer computed from this record and its selector key (most names see one selector). */
  firstKey: string | undefined
  first: ResolveResult | undefined
  /** Answers for further selector keys, made on the second. */
  more: Map<string, ResolveResult> | undefined
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
  /** Where the cache's timeline starts, in the clock's milliseconds. */
  readonly epoch: number
  private readonly lru: LRUCache<string, CacheEntry>
  private readonly tables: ShareTables = shareTables()
  private readonly sources = new Map<string, ResolveSource>()
  private readonly made = new WeakMap<FunctionRecord, SharedForm>()
  private readonly verifications = new Map<string, Verification>()

  constructor(clock: Clock, options: CacheOptions = {}) {
    this.options = { ...DEFAULT_CACHE_OPTIONS, ...options }
    this.clock = clock
    this.epoch = clock.now()
    this.lru = new LRUCache<string, CacheEntry>({
      max: this.options.max,
      dispose: (entry) => {
        if (entry.kind === 'found') entry.dropped = true
      },
    })
  }

  /**
   * Milliseconds since the cache was made, on its clock: entries' times are kept on this timeline,
   * whose values stay small integers (a clock's epoch milliseconds would each need a boxed number).
   */
  now(): number {
    return this.clock.now() - this.epoch
  }

  /** The entry for `name` while still of any use at `now` (see {@link ResolutionCache.now}), fresh or stale. */
  peek(name: string, now = this.now()): CacheEntry | undefined {
    const entry = this.lru.get(name)
    if (entry === undefined) return undefined
    if (now < (entry.kind === 'found' ? entry.staleUntil : entry.freshUntil)) return entry
    this.lru.delete(name)
    return undefined
  }

  /** Whether an entry is within its TTL at `now`. */
  isFresh(entry: CacheEntry, now = this.now()): boolean {
    return now < entry.freshUntil
  }

  setFound(
    name: string,
    verified: VerifiedRecord,
    registry: string,
    marks?: Readonly<Record<string, VersionMark>>,
  ): FoundEntry {
    const now = this.now()
    const { ttlSeconds, expiresAt } = verified.record
    const expires = Date.parse(expiresAt) - this.epoch
    const freshUntil = Math.min(now + Math.min(ttlSeconds, this.options.maxTtlSeconds) * 1000, expires)
    const staleUntil = Math.min(freshUntil + this.options.staleIfErrorSeconds * 1000, expires)
    const { record, bytes } = this.shared(verified)
    const strings = this.tables.strings
    const entry: FoundEntry = {
      kind: 'found',
      record,
      id: verified.id,
      verification: this.verification(verified, record),
      bytes,
      registry: strings.intern(registry),
      marks,
      storedAt: now,
      freshUntil,
      staleUntil,
      firstKey: undefined,
      first: undefined,
      more: undefined,
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
    return entry.firstKey === key ? entry.first : entry.more?.get(key)
  }

  /** Remembers an answer computed from `entry`; returns it. */
  remember(entry: FoundEntry, key: string, result: ResolveResult): ResolveResult {
    if (entry.firstKey === undefined || entry.firstKey === key) {
      entry.firstKey = key
      entry.first = result
      return result
    }
    entry.more ??= new Map()
    if (entry.more.size >= MAX_ANSWERS_PER_NAME - 1) entry.more.clear()
    entry.more.set(key, result)
    return result
  }

  /** The record's canonical bytes (signatures included), as verified. */
  bytesOf(entry: FoundEntry): Uint8Array {
    return entry.bytes ?? canonicalBytes(entry.record)
  }

  /** The source of an answer from a fresh entry of `registry` (one shared object per registry). */
  cacheSource(registry: string): ResolveSource {
    let source = this.sources.get(registry)
    if (source === undefined) {
      source = Object.freeze({ kind: 'cache', registry, stale: false } as const)
      if (this.sources.size >= MAX_SOURCES) this.sources.clear()
      this.sources.set(registry, source)
    }
    return source
  }

  setMissing(name: string): void {
    const now = this.now()
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

  /** The shared form of a verified record, made once per record object (the verifier hands a record seen before back as the same object). */
  private shared(verified: VerifiedRecord): SharedForm {
    const made = this.made.get(verified.record)
    if (made !== undefined && made.from === verified.bytes) return made
    const record = sharedRecord(verified.record, this.tables)
    // A record the schema took as parsed re-encodes to its verified bytes; another may not (zod
    // may have added defaults), so it is compared, and its bytes kept when they differ.
    const exact = wasTakenAsIs(verified.record) || reencodes(record, verified.bytes)
    const form = {
      record,
      bytes: exact ? undefined : verified.bytes,
      from: verified.bytes,
    }
    this.made.set(verified.record, form)
    return form
  }

  /** The verification facts of a record, one shared object per key, trust source, namespace and seq. */
  private verification(verified: VerifiedRecord, record: FunctionRecord): Verification {
    const key = `${verified.keyId}\n${verified.trustSource}\n${record.namespace}\n${record.seq}`
    let held = this.verifications.get(key)
    if (held === undefined) {
      const strings = this.tables.strings
      held = Object.freeze({
        method: 'signature',
        keyId: strings.intern(verified.keyId),
        namespace: record.namespace,
        trustSource: strings.intern(verified.trustSource),
        seq: record.seq,
      } as const)
      if (this.verifications.size >= MAX_VERIFICATIONS) this.verifications.clear()
      this.verifications.set(key, held)
    }
    return held
  }

  private store(name: string, entry: CacheEntry, ttlMs: number): void {
    if (ttlMs <= 0) {
      this.lru.delete(name)
      return
    }
    this.lru.set(name, entry)
  }
}

/** Whether `record` re-encodes to exactly `bytes` (a record parsed by zod may have gained defaults). */
function reencodes(record: FunctionRecord, bytes: Uint8Array): boolean {
  return canonicalText(record) === decoder.decode(bytes)
}
