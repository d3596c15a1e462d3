import { logger } from './_logger.js'
import { type FoundEntry, ResolutionCache } from './cache/ResolutionCache.js'
import { type Clock, systemClock } from './clock.js'
import { isMeshError } from './errors/base.js'
import { FunctionNotFoundError, NoValidRecordError, RegistriesUnavailableError } from './errors/resolve.js'
import { HealthTracker } from './health/HealthTracker.js'
import {
  type MeshBilling,
  MeshInvocation,
  type MeshLeases,
  type MeshLineage,
} from './invoke/MeshInvocation.js'
import type { CallOptions, CallResult, DispatchResult } from './invoke/types.js'
import { Marketplace, selectorKey } from './marketplace/Marketplace.js'
import { checkMeshInit, type MeshInit } from './meshOptions.js'
import { type FunctionName, parseFunctionName } from './name.js'
import { type PublishOptions, type PublishResult, publishRecord } from './publish.js'
import type { RecordDraft } from './record/schema.js'
import { federatedLookup } from './registry/federatedLookup.js'
import type { Registry } from './registry/types.js'
import { SingleFlight } from './resolve/SingleFlight.js'
import { selectVersion } from './resolve/selectVersion.js'
import type { ResolveOptions, ResolveResult, ResolveSource } from './resolve/types.js'
import type { SecurityContext, SecurityContextInit } from './security/SecurityContext.js'
import { Selector } from './select/Selector.js'
import type { SelectOptions, SelectResult } from './select/types.js'
import { RecordVerifier } from './trust/RecordVerifier.js'
import { memorySeqLedger, type SeqLedger } from './trust/SeqLedger.js'

const log = logger('mesh')

/** Parsed names remembered, so the warm path does not parse again. @default 10000 */
const NAME_MEMO_MAX = 10_000
/** Distinct selectors remembered per cached name (callers use a few; this bounds a hostile many). */
const MAX_SELECTIONS_PER_NAME = 64

/** The mesh's explicit cache controls. */
export interface MeshCache {
  /** Forget one name (`namespace/path`); returns whether it was cached. */
  invalidate(name: string): boolean
  /** Forget every name in a namespace; returns how many. */
  invalidateNamespace(namespace: string): number
  clear(): void
  readonly size: number
}

/** A running mesh node: see {@link createMesh}. */
export interface Mesh {
  readonly marketplace: Marketplace
  readonly registries: readonly Registry[]
  readonly verifier: RecordVerifier
  readonly cache: MeshCache
  /** Provider health shared by every strategy; the invocation layer reports each call to it. */
  readonly health: HealthTracker
  resolve(name: string, options?: ResolveOptions): Promise<ResolveResult>
  /** Resolves, filters by security context and health, and picks a provider with the strategy. */
  select(
    name: string,
    context?: SecurityContext | SecurityContextInit,
    options?: SelectOptions,
  ): Promise<SelectResult>
  publish(record: RecordDraft, options: PublishOptions): Promise<PublishResult>
  /**
   * Calls a function under governance: resolve, select, validate, reserve budget, invoke with a
   * deadline and safe retries, and leave lineage and a charge in the ledger.
   */
  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>>
  /** Calls every local function whose `triggerEvents` include `kind`, each with its own lineage. */
  dispatch(kind: string, event: unknown, options?: Omit<CallOptions, 'trigger'>): Promise<DispatchResult[]>
  /** Lineage proofs and verification. */
  readonly lineage: MeshLineage
  /** Usage from the charges in the ledger. */
  readonly billing: MeshBilling
  /** Leases: capabilities and per-currency budgets for calls. */
  readonly leases: MeshLeases
  close(): Promise<void>
}

/**
 * Starts a mesh over the given registries and trust.
 *
 * @example
 * ```ts
 * const signer = await generateSigner()
 * const mesh = await createMesh({ registries: [memoryRegistry()], trust: { owners: { 'acme.com': [signer.id] } } })
 * await mesh.publish(draft, { signer })
 * const { version, providers, source } = await mesh.resolve('acme.com/image/sharpen@^1.2')
 * await mesh.close()
 * ```
 */
export async function createMesh(init: MeshInit = {}): Promise<Mesh> {
  const mesh = new MeshNode(init)
  await mesh.start()
  return mesh
}

class MeshNode implements Mesh {
  readonly marketplace = new Marketplace()
  readonly registries: readonly Registry[]
  readonly verifier: RecordVerifier
  readonly cache: MeshCache
  readonly health: HealthTracker
  private readonly selector: Selector
  private readonly invocation: MeshInvocation
  private readonly store: ResolutionCache
  private readonly clock: Clock
  private readonly seqLedger: SeqLedger
  private readonly names = new Map<string, FunctionName>()
  private readonly flights = new SingleFlight<FoundEntry>()
  private readonly lifetime = new AbortController()
  private readonly init: MeshInit
  private started = false

  constructor(init: MeshInit) {
    const { trust } = checkMeshInit(init)
    this.init = init
    this.clock = init.clock ?? systemClock
    this.registries = [...(init.registries ?? [])]
    this.seqLedger = init.seqLedger ?? memorySeqLedger()
    this.verifier = new RecordVerifier({
      trust,
      clock: this.clock,
      ...(init.maxRecordBytes === undefined ? {} : { maxBytes: init.maxRecordBytes }),
    })
    this.store = new ResolutionCache(this.clock, init.cache)
    this.health =
      init.health instanceof HealthTracker
        ? init.health
        : new HealthTracker({ ...init.health, clock: this.clock })
    this.selector = new Selector({ ...init, health: this.health, clock: this.clock })
    this.invocation = new MeshInvocation({
      marketplace: this.marketplace,
      select: async (name, o) => {
        const options = o.signal === undefined ? (o.select ?? {}) : { ...o.select, signal: o.signal }
        const resolved = await this.resolve(name, options)
        const context = o.context as SecurityContext | SecurityContextInit | undefined
        return { resolved, selection: this.selector.select(resolved, context, o.select ?? {}) }
      },
      health: this.health,
      clock: this.clock,
      ledger: init.ledger,
      dataDir: init.dataDir,
      transports: init.transports,
      invoke: init.invoke,
    })
    const store = this.store
    this.cache = {
      invalidate: (name) => store.invalidate(name.toLowerCase()),
      invalidateNamespace: (namespace) => store.invalidateNamespace(namespace),
      clear: () => store.clear(),
      get size() {
        return store.size
      },
    }
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    for (const registry of this.registries) await registry.start?.()
    for (const registry of this.registries) if (registry.watch) void this.follow(registry)
  }

  async close(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.lifetime.abort()
    await this.invocation.close()
    for (const registry of [...this.registries].reverse()) await registry.stop?.()
    await this.seqLedger.flush?.()
    await this.verifier.close()
  }

  resolve(input: string, options: ResolveOptions = {}): Promise<ResolveResult> {
    let name: FunctionName
    try {
      name = this.parse(input)
    } catch (err) {
      return Promise.reject(err)
    }
    const includeDeprecated = options.includeDeprecated === true
    if (this.marketplace.size > 0) {
      const local = this.marketplace.match(name, includeDeprecated)
      if (local !== undefined) return Promise.resolve(local)
    }
    const entry = this.store.peek(name.name)
    if (entry !== undefined && options.cache !== 'refresh' && this.store.isFresh(entry)) {
      if (entry.kind === 'missing') return Promise.reject(new FunctionNotFoundError(name.name))
      const key = selectorKey(name, includeDeprecated)
      const memo = entry.results.get(key)
      if (memo !== undefined) return Promise.resolve(memo)
      try {
        const result = this.answer(entry, name, includeDeprecated, {
          kind: 'cache',
          registry: entry.registry,
          stale: false,
        })
        if (entry.results.size >= MAX_SELECTIONS_PER_NAME) entry.results.clear()
        entry.results.set(key, result)
        return Promise.resolve(result)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.resolveFromRegistries(name, entry?.kind === 'found' ? entry : undefined, options)
  }

  async select(
    input: string,
    context?: SecurityContext | SecurityContextInit,
    options: SelectOptions = {},
  ): Promise<SelectResult> {
    const resolved = await this.resolve(input, options)
    return this.selector.select(resolved, context, options)
  }

  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>> {
    return this.invocation.call<O>(name, input, options)
  }

  dispatch(kind: string, event: unknown, options?: Omit<CallOptions, 'trigger'>): Promise<DispatchResult[]> {
    return this.invocation.dispatch(kind, event, options)
  }

  get lineage(): MeshLineage {
    return this.invocation.lineage
  }

  get billing(): MeshBilling {
    return this.invocation.billing
  }

  get leases(): MeshLeases {
    return this.invocation.leases
  }

  publish(record: RecordDraft, options: PublishOptions): Promise<PublishResult> {
    return publishRecord(record, options, {
      registries: this.registries,
      verifier: this.verifier,
      seqLedger: this.seqLedger,
      clock: this.clock,
      lookupTimeoutMs: this.init.lookupTimeoutMs,
      defaultLifetimeSeconds: this.init.defaultRecordLifetimeSeconds,
      defaultTtlSeconds: this.init.defaultRecordTtlSeconds,
      invalidate: (name) => this.store.invalidate(name),
    })
  }

  private async resolveFromRegistries(
    name: FunctionName,
    stale: FoundEntry | undefined,
    options: ResolveOptions,
  ): Promise<ResolveResult> {
    let entry: FoundEntry
    try {
      entry = await this.flights.run(
        name.name,
        (signal) => this.fetch(name.name, signal, options),
        options.signal,
        `resolve ${name.name}`,
      )
    } catch (err) {
      const usable = stale !== undefined && this.clock.now() < stale.staleUntil
      if (usable && (isMeshError(err, 'E_REGISTRIES_UNAVAILABLE') || isUnavailableNotFound(err))) {
        log('serving stale %s: %s', name.name, (err as Error).message)
        const error = {
          code: (err as { code: string }).code,
          message: (err as Error).message.split('\n')[0]!,
        }
        return this.answer(stale, name, options.includeDeprecated === true, {
          kind: 'cache',
          registry: stale.registry,
          stale: true,
          ageMs: this.clock.now() - stale.storedAt,
          error,
        })
      }
      throw err
    }
    const source: ResolveSource = {
      kind: 'registry',
      registry: entry.registry,
      ...(entry.location === undefined ? {} : { location: entry.location }),
    }
    return this.answer(entry, name, options.includeDeprecated === true, source)
  }

  /** Asks the registries for one name and caches what they say. Runs once per name at a time. */
  private async fetch(name: string, signal: AbortSignal, options: ResolveOptions): Promise<FoundEntry> {
    const answer = await federatedLookup(this.registries, name, {
      verifier: this.verifier,
      seqLedger: this.seqLedger,
      signal,
      ...(this.init.lookupTimeoutMs === undefined ? {} : { timeoutMs: this.init.lookupTimeoutMs }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    })
    const { best, report, failures } = answer
    if (best !== undefined) {
      return this.store.setFound(name, best.verified, best.registry, best.location, report)
    }
    const invalid = report.findIndex((r) => r.status === 'invalid' || r.status === 'outdated')
    const failed = report.filter((r) => r.status === 'error' || r.status === 'timeout').length
    if (invalid !== -1) throw new NoValidRecordError(name, report, failures[invalid])
    if (failed === report.length && report.length > 0) throw new RegistriesUnavailableError(name, report)
    if (failed === 0) this.store.setMissing(name)
    throw new FunctionNotFoundError(name, report)
  }

  private answer(
    entry: FoundEntry,
    name: FunctionName,
    includeDeprecated: boolean,
    source: ResolveSource,
  ): ResolveResult {
    const { record, id, keyId, trustSource } = entry.verified
    const version = selectVersion(record, name.selector, includeDeprecated)
    const chosen = record.versions[version]!
    return Object.freeze<ResolveResult>({
      name: record.name,
      version,
      record,
      recordId: id,
      descriptor: chosen.descriptor,
      providers: chosen.providers,
      source,
      verified: { method: 'signature', keyId, namespace: record.namespace, trustSource, seq: record.seq },
      ...(source.kind === 'cache' ? {} : { report: entry.report }),
    })
  }

  private parse(input: string): FunctionName {
    let name = this.names.get(input)
    if (name === undefined) {
      name = parseFunctionName(input)
      if (this.names.size >= NAME_MEMO_MAX) this.names.clear()
      this.names.set(input, name)
    }
    return name
  }

  /** Drops cached names a registry reports changed, until the mesh closes. */
  private async follow(registry: Registry): Promise<void> {
    try {
      for await (const change of registry.watch!({ signal: this.lifetime.signal })) {
        for (const name of change.names) this.store.invalidate(name)
        log('%s changed %d names', registry.id, change.names.length)
      }
    } catch (err) {
      if (!this.lifetime.signal.aborted)
        log.error('watch on %s ended: %s', registry.id, (err as Error).message)
    }
  }
}

/** A "not found" in which some registry failed: the record may exist there. */
function isUnavailableNotFound(err: unknown): boolean {
  return (
    err instanceof FunctionNotFoundError &&
    err.report.some((r) => r.status === 'error' || r.status === 'timeout')
  )
}
