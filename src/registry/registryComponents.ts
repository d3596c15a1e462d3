import { type Clock, systemClock } from '../clock.js'
import type { RegistryComponents } from '../components.js'
import { defaultDataDir } from '../dataDir.js'
import { logger } from '../logger.js'
import { RecordVerifier } from '../trust/RecordVerifier.js'
import { memorySeqLedger, type SeqLedger } from '../trust/SeqLedger.js'
import { TrustChain } from '../trust/trustChain.js'
import { trustSources } from '../trust/trustInit.js'
import type { TrustInit } from '../trust/types.js'

export interface RegistryComponentsInit {
  /** Namespace owners, as `createMesh` takes them. @default none: every namespace is unowned */
  trust?: TrustInit
  clock?: Clock
  seqLedger?: SeqLedger
  /** @default $FMESH_DATA_DIR, else .fmesh in the working directory */
  dataDir?: string
  /** Largest accepted record. @default MAX_RECORD_BYTES */
  maxRecordBytes?: number
}

/** Components for a registry used without a mesh; `close` stops the verifier's workers. */
export interface StandaloneComponents extends RegistryComponents {
  close(): Promise<void>
}

/**
 * The components a mesh hands its registry factories, made for a registry used on its own (a sync
 * job, a mirror, a test): a verifier over `trust`, the system clock, an in-memory seq ledger.
 *
 * @example
 * ```ts
 * const components = registryComponents({ trust: { owners: { 'acme.com': [signer.id] } } })
 * const registry = gitRegistry({ dir })(components)
 * await registry.sync()
 * await registry.stop()
 * await components.close()
 * ```
 */
export function registryComponents(init: RegistryComponentsInit = {}): StandaloneComponents {
  const trust = new TrustChain(trustSources(init.trust))
  const clock = init.clock ?? systemClock
  const verifier = new RecordVerifier({
    trust: trust.sources,
    clock,
    ...(init.maxRecordBytes === undefined ? {} : { maxBytes: init.maxRecordBytes }),
  })
  const lifetime = new AbortController()
  return {
    verifier,
    trust,
    clock,
    logger,
    seqLedger: init.seqLedger ?? memorySeqLedger(),
    signal: lifetime.signal,
    dataDir: init.dataDir ?? defaultDataDir(),
    async close() {
      lifetime.abort()
      await verifier.close()
    },
  }
}
