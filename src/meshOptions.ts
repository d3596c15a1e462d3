import { z } from 'zod'
import type { CacheOptions } from './cache/ResolutionCache.js'
import type { Clock } from './clock.js'
import { ConfigError } from './errors/registry.js'
import type { HealthTracker } from './health/HealthTracker.js'
import type { HealthOptions } from './health/healthOptions.js'
import type { InvokeOptions, LedgerOptions } from './invoke/MeshInvocation.js'
import type { Registry } from './registry/types.js'
import type { SelectionInit } from './select/types.js'
import type { Transport } from './transport/types.js'
import { pinnedTrust } from './trust/pinnedTrust.js'
import type { SeqLedger } from './trust/SeqLedger.js'
import type { TrustInit, TrustSource } from './trust/types.js'

/**
 * What `createMesh` takes. Every field is optional; the defaults run on this machine alone.
 * Selection fields (`strategy`, `securityContext`, `rates`, `random`) come from {@link SelectionInit}.
 */
export interface MeshInit extends SelectionInit {
  /** Registries in priority order (earlier wins a tie). @default [] */
  registries?: readonly Registry[]
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

/** Checks the plain-data options and turns `trust` into an ordered list of sources. */
export function checkMeshInit(init: MeshInit): { trust: TrustSource[] } {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('', 'createMesh options must be an object')
  const numbers = NumbersSchema.safeParse(init)
  if (!numbers.success) {
    const issue = numbers.error.issues[0]!
    throw new ConfigError(issue.path.join('.'), issue.message)
  }
  const registries = init.registries ?? []
  if (!Array.isArray(registries)) throw new ConfigError('registries', 'must be an array of registries')
  const ids = new Set<string>()
  registries.forEach((registry, i) => {
    if (registry === null || typeof registry !== 'object' || typeof registry.lookup !== 'function') {
      throw new ConfigError(`registries[${i}]`, 'is not a registry (no lookup method)')
    }
    if (ids.has(registry.id))
      throw new ConfigError(`registries[${i}].id`, `duplicate registry id ${registry.id}`)
    ids.add(registry.id)
  })
  return { trust: toTrustSources(init.trust) }
}

function toTrustSources(trust: TrustInit | undefined): TrustSource[] {
  if (trust === undefined) return []
  if (trust === null || typeof trust !== 'object') {
    throw new ConfigError('trust', 'must be { owners: { namespace: [keyId] } } or trust sources')
  }
  if (Array.isArray(trust)) {
    const sources = [...(trust as readonly TrustSource[])]
    sources.forEach((source, i) => {
      if (source === null || typeof source !== 'object' || typeof source.publishersOf !== 'function') {
        throw new ConfigError(`trust[${i}]`, 'is not a trust source (no publishersOf method)')
      }
    })
    return sources
  }
  if ('owners' in trust) {
    if (trust.owners === null || typeof trust.owners !== 'object')
      throw new ConfigError('trust.owners', 'must be an object')
    return [pinnedTrust(trust.owners)]
  }
  if (typeof (trust as TrustSource).publishersOf === 'function') return [trust as TrustSource]
  throw new ConfigError('trust', 'must be { owners: { namespace: [keyId] } } or trust sources')
}
