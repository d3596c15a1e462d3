import type { EncodedRecord } from '../record/signRecord.js'
import type { AbortOptions, TrustSource } from '../trust/types.js'

export type { EncodedRecord } from '../record/signRecord.js'
export type { AbortOptions } from '../trust/types.js'

/** A version's status as a registry reports it apart from the signed record (the chain's marks). */
export interface VersionMark {
  readonly deprecated?: boolean
  readonly yanked?: boolean
}

/** What a registry holds for a name: untrusted bytes the mesh verifies. */
export interface RegistryEntry {
  readonly bytes: Uint8Array
  /** Where in the registry it was found (a commit and path, a CID, a block number). */
  readonly location?: string
  /**
   * Version marks the registry holds outside the signed bytes (the chain registry's on-chain
   * deprecate and yank), by version. They only ever add: a version a mark deprecates or yanks is
   * treated as if the record said so, whichever registry's record is served; a mark never clears a
   * flag the record sets.
   */
  readonly marks?: Readonly<Record<string, VersionMark>>
}

/**
 * Content-addressed bytes by CID (the IPFS registry's blockstore): where a chain anchor's CID
 * pointer leads. `get` answers undefined for a CID it does not hold.
 */
export interface ContentStore {
  /** Stores `bytes` as one raw block (CIDv1, sha-256) and returns its CID's text. */
  put(bytes: Uint8Array, options?: AbortOptions): Promise<string>
  get(cid: string, options?: AbortOptions): Promise<Uint8Array | undefined>
}

/** What a registry says after it stored a record. */
export interface PublishReceipt {
  readonly registry: string
  readonly location?: string
  /**
   * An IPFS registry's IPNS name (`/ipns/k51...`) the root holding the record is now published under:
   * what a reader puts in its IPFS registry's `follow`.
   */
  readonly ipnsName?: string
  /** The IPNS sequence of that root, as a decimal string (it survives JSON). */
  readonly ipnsSequence?: string
}

/** Names a registry saw change (a sync, a chain event, a peer announcement). */
export interface RegistryChange {
  readonly names: readonly string[]
  /**
   * Namespaces whose publisher keys or owner changed (a trust source's event): the mesh drops every
   * cached resolve in them, whatever registry the record came from.
   */
  readonly namespaces?: readonly string[]
  readonly reason?: string
}

/**
 * A store of signed function records. Registries are storage: they hand back bytes, and the mesh
 * verifies every record it reads (signature, owner, seq, size), whatever registry it came from.
 * Every call takes an `AbortSignal` and must reject with `AbortedError` soon after it fires.
 * Implementations: `memoryRegistry()` here; Git, IPFS, chain and peer under `registries/`.
 */
export interface Registry {
  /** Names this registry in results, reports and `publish({ to })`. */
  readonly id: string
  /** The stored record for `name` (`namespace/path`), or `undefined` when there is none. */
  lookup(name: string, options?: AbortOptions): Promise<RegistryEntry | undefined>
  /** Names matching a glob (`*` within a segment, `**` across), in no set order. */
  list(pattern: string, options?: AbortOptions): AsyncIterable<string>
  /**
   * Stores a signed record. Refuses (`PublishConflictError`) a record whose seq is not above the one
   * stored for the name, unless it is the very same record (then it is a no-op).
   */
  publish(record: EncodedRecord, options?: AbortOptions): Promise<PublishReceipt>
  /**
   * Namespace owners this registry knows (the chain registry's on-chain ownership). The mesh asks it
   * before the sources configured in `trust`.
   */
  readonly trustSource?: TrustSource
  /** Yields the names that change, until the signal aborts. */
  watch?(options?: AbortOptions): AsyncIterable<RegistryChange>
  start?(): Promise<void>
  stop?(): Promise<void>
}
