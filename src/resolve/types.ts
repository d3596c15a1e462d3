import type { RegistryOutcome } from '../errors/resolve.js'
import type { Descriptor, FunctionRecord, Provider } from '../record/schema.js'
import type { VersionMark } from '../registry/types.js'
import type { AbortOptions } from '../trust/types.js'

/** Where an answer came from. */
export type ResolveSource =
  | { readonly kind: 'marketplace' }
  | { readonly kind: 'registry'; readonly registry: string; readonly location?: string }
  | {
      readonly kind: 'cache'
      /** The registry the cached record came from. */
      readonly registry: string
      /** True when served past its TTL because every registry failed (stale-if-error). */
      readonly stale: boolean
      /** Milliseconds since the record was fetched. */
      readonly ageMs?: number
      /** Why the stale answer was served. */
      readonly error?: { readonly code: string; readonly message: string }
    }

/** How the answer was verified. */
export type Verification =
  | { readonly method: 'local' }
  | {
      readonly method: 'signature'
      readonly keyId: string
      readonly namespace: string
      /** The trust source that allowed `keyId` for the namespace (`pinned`, `chain:...`). */
      readonly trustSource: string
      readonly seq: number
    }

/** What `mesh.resolve` returns. */
export interface ResolveResult {
  /** `namespace/path`. */
  readonly name: string
  /** The chosen version. */
  readonly version: string
  readonly record: FunctionRecord
  /** CIDv1 of the record's canonical bytes (`local:...` for marketplace functions). */
  readonly recordId: string
  readonly descriptor: Descriptor
  readonly providers: readonly Provider[]
  readonly source: ResolveSource
  readonly verified: Verification
  /** Each registry's part, when registries were asked. */
  readonly report?: readonly RegistryOutcome[]
  /** The chosen version's mark from a registry (an on-chain deprecate or yank), when it has one. */
  readonly mark?: VersionMark
}

/** Progress events of a resolve, for progress bars and debugging. */
export type ResolveProgressEvent =
  | { readonly type: 'mesh:resolve:registry:start'; readonly registry: string; readonly name: string }
  | { readonly type: 'mesh:resolve:registry:done'; readonly outcome: RegistryOutcome; readonly name: string }

export interface ResolveOptions extends AbortOptions {
  /** Also pick deprecated and yanked versions for ranges and `latest`. @default false */
  includeDeprecated?: boolean
  /** `refresh` skips a fresh cache entry and asks the registries. @default 'use' */
  cache?: 'use' | 'refresh'
  onProgress?: (event: ResolveProgressEvent) => void
}
