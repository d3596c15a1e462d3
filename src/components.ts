import type { Clock } from './clock.js'
import type { MeshEvents } from './events.js'
import type { Logger } from './logger.js'
import type { Mesh } from './mesh.js'
import type { Registry } from './registry/types.js'
import type { Resolver } from './resolve/Resolver.js'
import type { Transport } from './transport/types.js'
import type { RecordVerifier } from './trust/RecordVerifier.js'
import type { SeqLedger } from './trust/SeqLedger.js'
import type { TrustSource } from './trust/types.js'

/** Makes a component logger (`fmesh:<component>`, on with `DEBUG=fmesh:*`). */
export type ComponentLogger = (component: string) => Logger

/**
 * The mesh's parts a registry factory receives (libp2p's `components`): one verifier, one trust
 * chain, one clock, one seq ledger per mesh, however many registries it has.
 */
export interface RegistryComponents {
  /** Verifies record bytes against the mesh's trust chain (one worker pool per mesh). */
  readonly verifier: RecordVerifier
  /** The mesh's whole trust chain as one source: registries' own sources first, then configured ones. */
  readonly trust: TrustSource
  readonly clock: Clock
  readonly logger: ComponentLogger
  /** The highest seq accepted per name. */
  readonly seqLedger: SeqLedger
  /** Fires when the mesh closes. */
  readonly signal: AbortSignal
  /** Where the mesh keeps local state; a registry may keep its own data under it. */
  readonly dataDir: string
}

/**
 * A registry as `createMesh({ registries })` takes it: a factory the mesh calls with its components
 * (`gitRegistry(init)` returns one), or a ready `Registry` object.
 */
export type RegistryFactory<R extends Registry = Registry> = (
  components: RegistryComponents,
) => R | Promise<R>

/** A part started and stopped with the mesh (libp2p's `Startable`): `start` and `stop` are idempotent. */
export interface Startable {
  start(): void | Promise<void>
  stop(): void | Promise<void>
}

/** What a service factory receives: the registry components, plus the mesh's resolver and the mesh itself. */
export interface ServiceComponents extends RegistryComponents {
  /** Resolution through the marketplace, cache and registries (the peer lookup protocol answers from it). */
  readonly resolver: Resolver
  /** The mesh's registries, started, in priority order. */
  readonly registries: readonly Registry[]
  /** The mesh the service runs in: select, call, publish, lineage, billing (the gateway serves them). */
  readonly mesh: Mesh
  /** The mesh's event bus (`mesh.events`): resolves, calls, publishes, changes, services' own events. */
  readonly events: MeshEvents
  /**
   * Adds a registry the service brings (the peer node's `peerRegistry`), asked after the configured
   * ones: its trust source joins the chain, it is started and its watch followed, and the mesh stops
   * it after the services. Returns the started registry.
   */
  addRegistry<R extends Registry>(registry: R): Promise<R>
  /**
   * Adds a transport the service brings (the peer node's `libp2p:`), asked before the built-in ones;
   * returns the function that removes it.
   */
  addTransport(transport: Transport): () => void
}

/** A service as `createMesh({ services })` takes it: started after the registries, stopped before them. */
export type ServiceFactory<S extends Startable = Startable> = (
  components: ServiceComponents,
) => S | Promise<S>
