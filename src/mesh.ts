import { systemClock } from './clock.js'
import type { RegistryComponents, ServiceComponents, Startable } from './components.js'
import { defaultDataDir } from './dataDir.js'
import { InvalidArgumentError, MeshClosedError } from './errors/mesh.js'
import { RegistryUnknownError } from './errors/registry.js'
import { MeshEvents } from './events.js'
import { HealthTracker } from './health/HealthTracker.js'
import type { MeshBilling, MeshLeases, MeshLineage } from './invoke/MeshInvocation.js'
import { MeshInvocation } from './invoke/MeshInvocation.js'
import type { CallOptions, CallResult, DispatchResult } from './invoke/types.js'
import { logger } from './logger.js'
import type { Marketplace } from './marketplace/Marketplace.js'
import { checkMeshInit, checkRegistry, type MeshInit } from './meshOptions.js'
import { type PublishOptions, type PublishResult, publishRecord } from './publish.js'
import type { RecordDraft } from './record/schema.js'
import type { Registry } from './registry/types.js'
import { Resolver } from './resolve/Resolver.js'
import type { ResolveOptions, ResolveResult } from './resolve/types.js'
import type { SecurityContext, SecurityContextInit } from './security/SecurityContext.js'
import { Selector } from './select/Selector.js'
import type { SelectOptions, SelectResult } from './select/types.js'
import type { Transport } from './transport/types.js'
import { RecordVerifier } from './trust/RecordVerifier.js'
import { memorySeqLedger } from './trust/SeqLedger.js'
import { TrustChain } from './trust/trustChain.js'

const log = logger('mesh')

/** The mesh's explicit cache controls. */
export interface MeshCache {
  /** Forget one name (`namespace/path`); returns whether it was cached. */
  invalidate(name: string): boolean
  /** Forget every name in a namespace; returns how many. */
  invalidateNamespace(namespace: string): number
  clear(): void
  readonly size: number
}

/** A running mesh: see {@link createMesh}. */
export interface Mesh {
  readonly marketplace: Marketplace
  /** The registries, started, in priority order. */
  readonly registries: readonly Registry[]
  readonly verifier: RecordVerifier
  readonly cache: MeshCache
  /** Provider health shared by every strategy; the invocation layer reports each call to it. */
  readonly health: HealthTracker
  /**
   * The registry with this id, as its factory made it (`mesh.registry<GitRegistry>('git').sync()`).
   * Throws `RegistryUnknownError` when there is none.
   */
  registry<R extends Registry = Registry>(id: string): R
  /** Resolves a name; a record from a registry comes back deep-frozen (the cache shares its parts). */
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
  /**
   * What happens in the mesh, as events: `resolve`, `call`, `publish`, `change` (a registry's
   * names), and services' own (`service`). Metrics, live feeds and the MCP server listen here.
   */
  readonly events: MeshEvents
  /** Lineage proofs and verification. */
  readonly lineage: MeshLineage
  /** Usage from the charges in the ledger. */
  readonly billing: MeshBilling
  /** Leases: capabilities and per-currency budgets for calls. */
  readonly leases: MeshLeases
  /** Stops the services, then the registries, and closes the ledger. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a mesh: makes each registry from its factory with the mesh's components (one verifier, one
 * trust chain, one clock), starts them in order, then starts the services.
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
  const mesh = new MeshRuntime(init)
  await mesh.start()
  return mesh
}

type State = 'new' | 'running' | 'closed'

/** The mesh's wiring: parts are made here and handed to each other; the work happens in them. */
class MeshRuntime implements Mesh {
  readonly registries: Registry[] = []
  readonly verifier: RecordVerifier
  readonly cache: MeshCache
  readonly health: HealthTracker
  readonly events = new MeshEvents(log)
  private readonly resolver: Resolver
  private readonly selector: Selector
  private readonly invocation: MeshInvocation
  private readonly trust: TrustChain
  private readonly components: RegistryComponents
  private readonly services: Startable[] = []
  private readonly lifetime = new AbortController()
  private readonly init: MeshInit
  private readonly registryIds = new Set<string>()
  private state: State = 'new'

  constructor(init: MeshInit) {
    const checked = checkMeshInit(init)
    this.init = init
    const clock = init.clock ?? systemClock
    const seqLedger = init.seqLedger ?? memorySeqLedger()
    this.trust = new TrustChain(checked.trust)
    this.verifier = new RecordVerifier({
      trust: this.trust.sources,
      clock,
      ...(init.maxRecordBytes === undefined ? {} : { maxBytes: init.maxRecordBytes }),
    })
    this.components = Object.freeze({
      verifier: this.verifier,
      trust: this.trust,
      clock,
      logger,
      seqLedger,
      signal: this.lifetime.signal,
      dataDir: init.dataDir ?? defaultDataDir(),
    })
    this.resolver = new Resolver({
      registries: this.registries,
      verifier: this.verifier,
      seqLedger,
      clock,
      ...(init.cache === undefined ? {} : { cache: init.cache }),
      ...(init.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: init.lookupTimeoutMs }),
      log,
      events: this.events,
    })
    this.health =
      init.health instanceof HealthTracker ? init.health : new HealthTracker({ ...init.health, clock })
    this.selector = new Selector({ ...init, health: this.health, clock })
    this.invocation = new MeshInvocation({
      marketplace: this.resolver.marketplace,
      select: async (name, o) => {
        const options = o.signal === undefined ? (o.select ?? {}) : { ...o.select, signal: o.signal }
        const resolved = await this.resolver.resolve(name, options)
        return { resolved, selection: this.selector.select(resolved, o.context, o.select ?? {}) }
      },
      health: this.health,
      clock,
      ledger: init.ledger,
      dataDir: init.dataDir,
      transports: init.transports,
      invoke: init.invoke,
      events: this.events,
    })
    const cache = this.resolver.cache
    this.cache = {
      invalidate: (name) => cache.invalidate(String(name).toLowerCase()),
      invalidateNamespace: (namespace) => cache.invalidateNamespace(String(namespace)),
      clear: () => cache.clear(),
      get size() {
        return cache.size
      },
    }
  }

  get marketplace(): Marketplace {
    return this.resolver.marketplace
  }

  /**
   * Makes every registry, adds the trust sources they bring (so each registry's first sync sees the
   * whole trust chain), starts them in order, then makes and starts the services; on a failure stops
   * everything whose start was attempted.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'running'
    const ids = this.registryIds
    try {
      for (const [i, entry] of (this.init.registries ?? []).entries()) {
        const made = typeof entry === 'function' ? await entry(this.components) : entry
        this.registries.push(checkRegistry(made, i, ids))
      }
      for (const registry of this.registries)
        if (registry.trustSource !== undefined) this.trust.addRegistrySource(registry.trustSource)
      for (const registry of this.registries) await registry.start?.()
      for (const registry of this.registries) void this.resolver.follow(registry, this.lifetime.signal)
      const components: ServiceComponents = Object.freeze({
        ...this.components,
        resolver: this.resolver,
        registries: this.registries,
        mesh: this,
        events: this.events,
        addRegistry: <R extends Registry>(registry: R) => this.addRegistry(registry),
        addTransport: (transport: Transport) => this.invocation.addTransport(transport),
      })
      for (const factory of this.init.services ?? []) {
        const service = await factory(components)
        this.services.push(service)
        await service.start()
      }
    } catch (err) {
      await this.close().catch((closeErr: unknown) =>
        log.error('stopping after a failed start: %o', closeErr),
      )
      throw err
    }
  }

  /** A service's registry: checked like a configured one, joined to the trust chain, started, followed. */
  private async addRegistry<R extends Registry>(registry: R): Promise<R> {
    if (this.state === 'closed') throw new MeshClosedError('add a registry')
    const checked = checkRegistry(registry, this.registries.length, this.registryIds) as R
    if (checked.trustSource !== undefined) this.trust.addRegistrySource(checked.trustSource)
    this.registries.push(checked)
    await checked.start?.()
    void this.resolver.follow(checked, this.lifetime.signal)
    return checked
  }

  /** Stops services (in reverse), the invocation layer, registries (in reverse); every one is stopped even if another fails. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.lifetime.abort()
    const failures: unknown[] = []
    const attempt = async (what: string, stop: () => void | Promise<void>) => {
      try {
        await stop()
      } catch (err) {
        log.error('stopping %s failed: %o', what, err)
        failures.push(err)
      }
    }
    for (const service of [...this.services].reverse()) await attempt('a service', () => service.stop())
    await attempt('the invocation layer', () => this.invocation.close())
    for (const registry of [...this.registries].reverse())
      await attempt(`registry ${registry.id}`, () => registry.stop?.())
    await attempt('the seq ledger', () => this.components.seqLedger.flush?.())
    await attempt('the verifier', () => this.verifier.close())
    this.events.clear()
    if (failures.length > 0) throw failures[0]
  }

  registry<R extends Registry = Registry>(id: string): R {
    const registry = this.registries.find((r) => r.id === id)
    if (registry === undefined)
      throw new RegistryUnknownError(
        String(id),
        this.registries.map((r) => r.id),
      )
    return registry as R
  }

  resolve(name: string, options?: ResolveOptions): Promise<ResolveResult> {
    if (this.state === 'closed') return Promise.reject(new MeshClosedError('resolve'))
    if (typeof name !== 'string')
      return Promise.reject(new InvalidArgumentError('mesh.resolve', 'name', 'a string', name))
    if (options !== undefined && (options === null || typeof options !== 'object'))
      return Promise.reject(new InvalidArgumentError('mesh.resolve', 'options', 'an object', options))
    return this.resolver.resolve(name, options)
  }

  async select(
    name: string,
    context?: SecurityContext | SecurityContextInit,
    options: SelectOptions = {},
  ): Promise<SelectResult> {
    if (this.state === 'closed') throw new MeshClosedError('select')
    if (typeof name !== 'string') throw new InvalidArgumentError('mesh.select', 'name', 'a string', name)
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('mesh.select', 'options', 'an object', options)
    const resolved = await this.resolver.resolve(name, options)
    return this.selector.select(resolved, context, options)
  }

  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>> {
    if (this.state === 'closed') return Promise.reject(new MeshClosedError('call'))
    if (typeof name !== 'string')
      return Promise.reject(new InvalidArgumentError('mesh.call', 'name', 'a string', name))
    return this.invocation.call<O>(name, input, options)
  }

  dispatch(kind: string, event: unknown, options?: Omit<CallOptions, 'trigger'>): Promise<DispatchResult[]> {
    if (this.state === 'closed') return Promise.reject(new MeshClosedError('dispatch'))
    if (typeof kind !== 'string')
      return Promise.reject(new InvalidArgumentError('mesh.dispatch', 'kind', 'a string', kind))
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

  async publish(record: RecordDraft, options: PublishOptions): Promise<PublishResult> {
    if (this.state === 'closed') throw new MeshClosedError('publish')
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('mesh.publish', 'options', '{ signer } (a publisher key)', options)
    const published = await publishRecord(record, options, {
      registries: this.registries,
      verifier: this.verifier,
      seqLedger: this.components.seqLedger,
      clock: this.components.clock,
      lookupTimeoutMs: this.init.lookupTimeoutMs,
      defaultLifetimeSeconds: this.init.defaultRecordLifetimeSeconds,
      defaultTtlSeconds: this.init.defaultRecordTtlSeconds,
      invalidate: (name) => this.resolver.cache.invalidate(name),
    })
    this.events.emit('publish', {
      name: published.name,
      id: published.id,
      seq: published.seq,
      registries: published.receipts.map((r) => r.registry),
    })
    return published
  }
}
