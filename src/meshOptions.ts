import { z } from 'zod'
import type { CacheOptions } from './cache/ResolutionCache.js'
import type { Clock } from './clock.js'
import type { RegistryFactory, ServiceFactory } from './components.js'
import { ConfigError } from './errors/registry.js'
import type { HealthTracker } from './health/HealthTracker.js'
import { DEFAULT_HEALTH_OPTIONS, type HealthOptions } from './health/healthOptions.js'
import type { InvokeOptions, LedgerOptions } from './invoke/MeshInvocation.js'
import { checkKnownKeys } from './options.js'
import type { Registry } from './registry/types.js'
import type { SelectionInit } from './select/types.js'
import type { Transport } from './transport/types.js'
import type { SeqLedger } from './trust/SeqLedger.js'
import { trustSources } from './trust/trustInit.js'
import type { TrustInit, TrustSource } from './trust/types.js'

/**
 * What `createMesh` takes. Every field is optional; the defaults run on this machine alone.
 * Selection fields (`strategy`, `securityContext`, `rates`, `random`) come from {@link SelectionInit}.
 */
export interface MeshInit extends SelectionInit {
  /**
   * Registries in priority order (earlier wins a tie): factories the mesh calls with its components
   * (`gitRegistry(init)`), or ready `Registry` objects. @default []
   */
  registries?: readonly (Registry | RegistryFactory)[]
  /** Services started after the registries, in order, and stopped before them, in reverse (the peer node, the gateway). */
  services?: readonly ServiceFactory[]
  /** Who may publish for which namespace: pinned owners, or trust sources in order. */
  trust?: TrustInit
  cache?: CacheOptions
  /** Deadline for each registry's answer to one lookup. @default 5000 */
  lookupTimeoutMs?: number
  /** Largest accepted record. @default 65536 */
  maxRecordBytes?: number
  /** Lifetime given to published records that do not set `expiresAt`. @default 2592000 (30 days) */
  defaultRecordLifetimeSeconds?: number
  /** `ttlSeconds` given to published records that do not set it. @default 300 */
  defaultRecordTtlSeconds?: number
  seqLedger?: SeqLedger
  clock?: Clock
  /** Provider health tuning, or a tracker to share between meshes. */
  health?: HealthOptions | HealthTracker
  /** Where the mesh keeps local state (the ledger). @default $FMESH_DATA_DIR, else .fmesh in the working directory */
  dataDir?: string
  /** The durable ledger (lineage, charges, idempotency keys, leases), opened on the first call. @default { path: `<dataDir>/ledger.sqlite` } */
  ledger?: LedgerOptions
  /** Transports besides the built-in local: and http(s):// ones (the libp2p peer transport). */
  transports?: readonly Transport[]
  /** Invocation tuning: default principal, retry budget, response size limit, default deadline. */
  invoke?: InvokeOptions
}

const positiveInt = z.number().int().positive()
const NumbersSchema = z.object({
  lookupTimeoutMs: positiveInt.max(600_000).optional(),
  maxRecordBytes: positiveInt.max(16 * 1024 * 1024).optional(),
  defaultRecordLifetimeSeconds: positiveInt.optional(),
  defaultRecordTtlSeconds: z.number().int().min(0).max(31_536_000).optional(),
  cache: z
    .strictObject({
      max: positiveInt.optional(),
      maxTtlSeconds: z.number().int().min(0).optional(),
      negativeTtlSeconds: z.number().int().min(0).optional(),
      staleIfErrorSeconds: z.number().int().min(0).optional(),
    })
    .optional(),
})

/** Every key `createMesh` takes. */
const MESH_INIT_KEYS = [
  'registries',
  'services',
  'trust',
  'cache',
  'lookupTimeoutMs',
  'maxRecordBytes',
  'defaultRecordLifetimeSeconds',
  'defaultRecordTtlSeconds',
  'seqLedger',
  'clock',
  'health',
  'dataDir',
  'ledger',
  'transports',
  'invoke',
  'strategy',
  'securityContext',
  'rates',
  'random',
] as const satisfies readonly (keyof MeshInit)[]

const INVOKE_KEYS = [
  'principal',
  'retryBudget',
  'maxResponseBytes',
  'defaultTimeoutMs',
] as const satisfies readonly (keyof InvokeOptions)[]

const CACHE_KEYS = [
  'max',
  'maxTtlSeconds',
  'negativeTtlSeconds',
  'staleIfErrorSeconds',
] as const satisfies readonly (keyof CacheOptions)[]

const LEDGER_KEYS = [
  'path',
  'keyPath',
  'signer',
  'checkpointEvery',
  'durability',
  'waitForLockMs',
  'onLockWait',
  'readOnly',
  'maxSizeBytes',
] as const satisfies readonly (keyof LedgerOptions)[]

/**
 * Checks the options: unknown keys are refused naming the nearest known one, plain-data fields are
 * range-checked, registries are registries or factories, and `trust` becomes sources in order.
 */
export function checkMeshInit(init: MeshInit): { trust: TrustSource[] } {
  if (init === null || typeof init !== 'object' || Array.isArray(init))
    throw new ConfigError('', 'createMesh options must be an object')
  checkKnownKeys(init, MESH_INIT_KEYS, '')
  if (init.invoke !== undefined) {
    if (init.invoke === null || typeof init.invoke !== 'object')
      throw new ConfigError('invoke', 'must be an object')
    checkKnownKeys(init.invoke, INVOKE_KEYS, 'invoke')
  }
  for (const [key, known] of [
    ['cache', CACHE_KEYS],
    ['ledger', LEDGER_KEYS],
  ] as const) {
    const value = init[key]
    if (value === undefined) continue
    if (value === null || typeof value !== 'object') throw new ConfigError(key, 'must be an object')
    checkKnownKeys(value, known, key)
  }
  if (init.health !== undefined && init.health !== null && typeof init.health === 'object') {
    if (Object.getPrototypeOf(init.health) === Object.prototype)
      checkKnownKeys(init.health, Object.keys(DEFAULT_HEALTH_OPTIONS), 'health')
  }
  if (init.clock !== undefined && typeof init.clock?.now !== 'function')
    throw new ConfigError('clock', 'must have a now() method')
  const numbers = NumbersSchema.safeParse(init)
  if (!numbers.success) {
    const issue = numbers.error.issues[0]!
    throw new ConfigError(issue.path.join('.'), issue.message)
  }
  const registries = init.registries ?? []
  if (!Array.isArray(registries))
    throw new ConfigError('registries', 'must be an array of registries or registry factories')
  registries.forEach((registry, i) => {
    if (typeof registry === 'function') return
    if (registry === null || typeof registry !== 'object' || typeof registry.lookup !== 'function') {
      throw new ConfigError(`registries[${i}]`, 'is not a registry (no lookup method) nor a registry factory')
    }
  })
  const services = init.services ?? []
  if (!Array.isArray(services)) throw new ConfigError('services', 'must be an array of service factories')
  services.forEach((service, i) => {
    if (typeof service !== 'function')
      throw new ConfigError(`services[${i}]`, 'must be a service factory: (components) => { start, stop }')
  })
  return { trust: trustSources(init.trust) }
}

/** Checks a registry a factory made and that its id is not taken. */
export function checkRegistry(registry: unknown, index: number, ids: Set<string>): Registry {
  if (
    registry === null ||
    typeof registry !== 'object' ||
    typeof (registry as Registry).lookup !== 'function'
  )
    throw new ConfigError(`registries[${index}]`, 'the factory did not return a registry (no lookup method)')
  const { id } = registry as Registry
  if (typeof id !== 'string' || id === '')
    throw new ConfigError(`registries[${index}].id`, 'must be a non-empty string')
  if (ids.has(id)) throw new ConfigError(`registries[${index}].id`, `duplicate registry id ${id}`)
  ids.add(id)
  return registry as Registry
}
