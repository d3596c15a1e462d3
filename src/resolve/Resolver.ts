import type { CacheOptions } from '../cache/ResolutionCache.js'
import { type FoundEntry, ResolutionCache } from '../cache/ResolutionCache.js'
import type { Clock } from '../clock.js'
import { isMeshError } from '../errors/base.js'
import {
  FunctionNotFoundError,
  NoValidRecordError,
  RegistriesUnavailableError,
  type RegistryOutcome,
} from '../errors/resolve.js'
import type { MeshEvents } from '../events.js'
import { type Logger, logger } from '../logger.js'
import { Marketplace, selectorKey } from '../marketplace/Marketplace.js'
import { type FunctionName, parseFunctionName } from '../name.js'
import { federatedLookup } from '../registry/federatedLookup.js'
import type { Registry } from '../registry/types.js'
import type { RecordVerifier } from '../trust/RecordVerifier.js'
import type { SeqLedger } from '../trust/SeqLedger.js'
import { SingleFlight } from './SingleFlight.js'
import { selectVersion } from './selectVersion.js'
import type { ResolveOptions, ResolveResult, ResolveSource } from './types.js'

/**
 * What a lookup in the registries gave: the cache entry it filled, and what only the answer made
 * right then reports (where the record was found, each registry's part), which the entry need not keep.
 */
interface Fetched {
  readonly entry: FoundEntry
  readonly location: string | undefined
  readonly report: readonly RegistryOutcome[]
}

/** Query texts remembered per cached name (callers use a few selectors per name). */
const QUERIES_PER_NAME = 4

/** The options of a call that gives none (shared, so the warm path allocates nothing for them). */
const NO_OPTIONS: ResolveOptions = Object.freeze({})

/** Warm answers served between two recency updates of their cache entry (a power of two, less one). */
const TOUCH_EVERY = 31

/**
 * A parsed name, its keys into a cache entry's remembered answers, and the last answer for each
 * (held with the entry it came from, valid while that entry stays in the cache and fresh): the warm
 * path is one map read, one clock read and two checks.
 */
interface ParsedQuery {
  readonly name: FunctionName
  readonly key: string
  readonly keyAll: string
  warmEntry: FoundEntry | undefined
  warm: ResolveResult | undefined
  warmAllEntry: FoundEntry | undefined
  warmAll: ResolveResult | undefined
  hits: number
}

export interface ResolverInit {
  registries: readonly Registry[]
  verifier: RecordVerifier
  seqLedger: SeqLedger
  clock: Clock
  /** Local functions, asked first. @default a new, empty marketplace */
  marketplace?: Marketplace
  cache?: CacheOptions
  /** Deadline of each registry's answer to one lookup. @default DEFAULT_LOOKUP_TIMEOUT_MS */
  lookupTimeoutMs?: number
  log?: Logger
  /** Where each resolve (`resolve`) and each registry change (`change`) is reported. */
  events?: MeshEvents
}

/**
 * Resolution: a name and version selector to one verified record version, through the local
 * marketplace, then the TTL cache, then the registries (federated, one lookup per name at a time),
 * serving a stale answer when every registry fails within the stale-if-error window. Registries'
 * `watch` changes drop names from the cache. The mesh, the peer lookup protocol and the gateway all
 * resolve through one of these.
 *
 * @example
 * ```ts
 * const resolver = new Resolver({ registries, verifier, seqLedger: memorySeqLedger(), clock: systemClock })
 * const { version, providers, source } = await resolver.resolve('acme.com/image/sharpen@^1.2')
 * ```
 */
export class Resolver {
  readonly marketplace: Marketplace
  readonly cache: ResolutionCache
  private readonly init: ResolverInit
  private readonly log: Logger
  private readonly names = new Map<string, ParsedQuery>()
  private readonly flights = new SingleFlight<Fetched>()
  /** Parsed query texts remembered, so the warm path does not parse again; sized to the cache. */
  private readonly memoMax: number

  constructor(init: ResolverInit) {
    this.init = init
    this.marketplace = init.marketplace ?? new Marketplace()
    this.cache = new ResolutionCache(init.clock, init.cache)
    this.memoMax = this.cache.options.max * QUERIES_PER_NAME
    this.log = init.log ?? logger('resolve')
  }

  /** The registries asked, in priority order. */
  get registries(): readonly Registry[] {
    return this.init.registries
  }

  /** Resolves `namespace/path[@selector]` to a verified version of a record. */
  resolve(input: string, options: ResolveOptions = NO_OPTIONS): Promise<ResolveResult> {
    const events = this.init.events
    if (events === undefined || !events.has('resolve')) return this.resolveQuietly(input, options)
    const clock = this.init.clock
    const started = clock.now()
    const bare = String(input).split('@')[0]!.toLowerCase()
    return this.resolveQuietly(input, options).then(
      (result) => {
        events.emit('resolve', {
          name: result.name,
          outcome: 'ok',
          source: result.source,
          version: result.version,
          durationMs: clock.now() - started,
        })
        return result
      },
      (err: unknown) => {
        const code = (err as { code?: unknown })?.code
        events.emit('resolve', {
          name: bare,
          outcome: 'error',
          ...(typeof code === 'string' ? { code } : {}),
          durationMs: clock.now() - started,
        })
        throw err
      },
    )
  }

  private resolveQuietly(input: string, options: ResolveOptions): Promise<ResolveResult> {
    let query: ParsedQuery
    try {
      query = this.query(input)
    } catch (err) {
      return Promise.reject(err)
    }
    const { name } = query
    const includeDeprecated = options.includeDeprecated === true
    if (this.marketplace.size > 0) {
      const local = this.marketplace.match(name, includeDeprecated)
      if (local !== undefined) return Promise.resolve(local)
    }
    const now = this.cache.now()
    const refresh = options.cache === 'refresh'
    const warmEntry = includeDeprecated ? query.warmAllEntry : query.warmEntry
    if (warmEntry !== undefined && !warmEntry.dropped && now < warmEntry.freshUntil && !refresh) {
      // Keeps the entry's place in the LRU order without a cache read on every warm answer.
      if ((++query.hits & TOUCH_EVERY) === 0) this.cache.touch(name.name)
      return Promise.resolve((includeDeprecated ? query.warmAll : query.warm)!)
    }
    const entry = this.cache.peek(name.name, now)
    if (entry !== undefined && now < entry.freshUntil && !refresh) {
      if (entry.kind === 'missing') return Promise.reject(new FunctionNotFoundError(name.name))
      const key = includeDeprecated ? query.keyAll : query.key
      let result = this.cache.answerFor(entry, key)
      if (result === undefined) {
        try {
          const source = this.cache.cacheSource(entry.registry)
          result = this.cache.remember(entry, key, answer(entry, name, includeDeprecated, source))
        } catch (err) {
          return Promise.reject(err)
        }
      }
      if (includeDeprecated) {
        query.warmAllEntry = entry
        query.warmAll = result
      } else {
        query.warmEntry = entry
        query.warm = result
      }
      return Promise.resolve(result)
    }
    return this.fromRegistries(name, entry?.kind === 'found' ? entry : undefined, options)
  }

  /**
   * Drops the names a registry reports changed from the cache, until `signal` fires. Resolves when
   * the registry's watch ends.
   */
  async follow(registry: Registry, signal: AbortSignal): Promise<void> {
    if (registry.watch === undefined) return
    try {
      for await (const change of registry.watch({ signal })) {
        for (const name of change.names) this.cache.invalidate(name)
        for (const namespace of change.namespaces ?? []) this.cache.invalidateNamespace(namespace)
        this.log('%s changed %d names', registry.id, change.names.length)
        this.init.events?.emit('change', {
          registry: registry.id,
          names: change.names,
          namespaces: change.namespaces ?? [],
          ...(change.reason === undefined ? {} : { reason: change.reason }),
        })
      }
    } catch (err) {
      if (!signal.aborted) this.log.error('watch on %s ended: %s', registry.id, (err as Error).message)
    }
  }

  /** Parses a name. */
  parse(input: string): FunctionName {
    return this.query(input).name
  }

  /** Parses a name with its cache keys, remembering them for the warm path. */
  private query(input: string): ParsedQuery {
    let query = this.names.get(input)
    if (query === undefined) {
      const name = parseFunctionName(input)
      query = {
        name,
        key: selectorKey(name, false),
        keyAll: selectorKey(name, true),
        warmEntry: undefined,
        warm: undefined,
        warmAllEntry: undefined,
        warmAll: undefined,
        hits: 0,
      }
      if (this.names.size >= this.memoMax) this.names.clear()
      this.names.set(input, query)
    }
    return query
  }

  private async fromRegistries(
    name: FunctionName,
    stale: FoundEntry | undefined,
    options: ResolveOptions,
  ): Promise<ResolveResult> {
    let fetched: Fetched
    try {
      fetched = await this.flights.run(
        name.name,
        (signal) => this.fetch(name.name, signal, options),
        options.signal,
        `resolve ${name.name}`,
      )
    } catch (err) {
      const now = this.cache.now()
      const usable = stale !== undefined && now < stale.staleUntil
      if (usable && (isMeshError(err, 'E_REGISTRIES_UNAVAILABLE') || isUnavailableNotFound(err))) {
        this.log('serving stale %s: %s', name.name, (err as Error).message)
        const error = {
          code: (err as { code: string }).code,
          message: (err as Error).message.split('\n')[0]!,
        }
        return answer(stale, name, options.includeDeprecated === true, {
          kind: 'cache',
          registry: stale.registry,
          stale: true,
          ageMs: now - stale.storedAt,
          error,
        })
      }
      throw err
    }
    const { entry, location, report } = fetched
    const source: ResolveSource = {
      kind: 'registry',
      registry: entry.registry,
      ...(location === undefined ? {} : { location }),
    }
    return answer(entry, name, options.includeDeprecated === true, source, report)
  }

  /** Asks the registries for one name and caches what they say. Runs once per name at a time. */
  private async fetch(name: string, signal: AbortSignal, options: ResolveOptions): Promise<Fetched> {
    const { best, report, failures } = await federatedLookup(this.init.registries, name, {
      verifier: this.init.verifier,
      seqLedger: this.init.seqLedger,
      clock: this.init.clock,
      signal,
      ...(this.init.lookupTimeoutMs === undefined ? {} : { timeoutMs: this.init.lookupTimeoutMs }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    })
    if (best !== undefined) {
      const entry = this.cache.setFound(name, best.verified, best.registry, best.marks)
      return { entry, location: best.location, report }
    }
    const invalid = report.findIndex((r) => r.status === 'invalid' || r.status === 'outdated')
    const failed = report.filter((r) => r.status === 'error' || r.status === 'timeout').length
    if (invalid !== -1) throw new NoValidRecordError(name, report, failures[invalid])
    if (failed === report.length && report.length > 0) throw new RegistriesUnavailableError(name, report)
    if (failed === 0) this.cache.setMissing(name)
    throw new FunctionNotFoundError(name, report)
  }
}

function answer(
  entry: FoundEntry,
  name: FunctionName,
  includeDeprecated: boolean,
  source: ResolveSource,
  report?: readonly RegistryOutcome[],
): ResolveResult {
  const { record, id, verification } = entry
  const version = selectVersion(record, name.selector, includeDeprecated, entry.marks)
  const chosen = record.versions[version]!
  const mark = entry.marks?.[version]
  const result: { -readonly [K in keyof ResolveResult]: ResolveResult[K] } = {
    name: record.name,
    version,
    record,
    recordId: id,
    descriptor: chosen.descriptor,
    providers: chosen.providers,
    source,
    verified: verification,
  }
  // Added only when present, so the common answer (from the cache, no mark) is one plain object.
  if (mark !== undefined) result.mark = mark
  if (report !== undefined) result.report = report
  return Object.freeze(result)
}

/** A "not found" in which some registry failed: the record may exist there. */
function isUnavailableNotFound(err: unknown): boolean {
  return (
    err instanceof FunctionNotFoundError &&
    err.report.some((r) => r.status === 'error' || r.status === 'timeout')
  )
}
