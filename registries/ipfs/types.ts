import type { Helia } from '@helia/interface'
import type { AbortOptions, ContentStore, Registry, RegistryChange } from '../../src/registry/types.js'

/**
 * What `ipfsRegistry` takes: `dir` (the registry makes, starts and stops its own Helia node with its
 * blockstore and datastore on disk) or `helia` (a started node it uses and never stops), not both.
 */
export interface IpfsRegistryInit {
  /** Directory of the registry's own Helia node (`blocks/`, `datastore/`); created when missing. */
  dir?: string
  /** A started Helia node to store records in; the registry does not stop it. */
  helia?: Helia
  /** Names the registry in results and `publish({ to })`. @default 'ipfs' */
  id?: string
  /** The keychain key the root is published under by IPNS; created (Ed25519) if missing. @default `function-mesh-registry-<id>` */
  ipnsKey?: string
  /** A directory's size in bytes past which it becomes a HAMT shard. @default DEFAULT_SHARD_SPLIT_THRESHOLD_BYTES */
  shardSplitThresholdBytes?: number
  /** How long each published IPNS record is valid. @default DEFAULT_IPNS_LIFETIME_MS */
  ipnsLifetimeMs?: number
}

/** A snapshot of the registry's state. */
export interface IpfsRegistryStatus {
  readonly id: string
  readonly dir?: string
  readonly started: boolean
  /** The root directory's CID the index reflects. */
  readonly root?: string
  /** `/ipns/<key>`: the name the root is published under. */
  readonly ipnsName?: string
  /** The IPNS sequence of the current root. */
  readonly ipnsSequence?: bigint
  /** Names in the index. */
  readonly names: number
}

/** A `Registry` backed by a Helia node: records as UnixFS files, the root named by IPNS. */
export interface IpfsRegistry extends Registry {
  status(): IpfsRegistryStatus
  /** The Helia node the registry stores records in (made by `start()` when the registry owns it). */
  readonly helia: Helia | undefined
  /**
   * The node's blocks as a content store (raw blocks, pinned), for a chain registry's CID pointers:
   * `chainRegistry({ ..., contentStore: ipfs })` with the same `ipfsRegistry(...)` factory.
   */
  readonly contentStore: ContentStore
  watch(options?: AbortOptions): AsyncIterable<RegistryChange>
  start(): Promise<void>
  stop(): Promise<void>
}
