import type { Helia } from '@helia/interface'
import type { Libp2p } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
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
  /**
   * Networked mode: the registry's own node (in `dir`) runs libp2p with bitswap, a private kad-dht
   * for IPNS and gossipsub at `services.pubsub`, and shares blocks with the peers it is connected to.
   * Absent, the node is offline. The registry owns this libp2p node; `peerNode({ libp2p:
   * registry.libp2p })` runs the peer node on it (started after the registry, never stopping it).
   */
  network?: IpfsNetworkInit
  /**
   * Other registries' IPNS names (`registry.ipnsName`, `/ipns/k51...`): a lookup this registry's own
   * index misses asks them in order, fetches the record over bitswap, checks it and pins it.
   */
  follow?: readonly string[]
  /** The most a lookup waits on followed publishers (its own signal may end it sooner). @default DEFAULT_FOLLOW_TIMEOUT_MS */
  followTimeoutMs?: number
  /**
   * How long a followed record is served before it is looked up again (it is still served if the
   * publisher is gone), and how long a publisher's resolved root is used for other names' lookups
   * (at most its IPNS record's TTL). @default DEFAULT_FOLLOW_REFRESH_MS
   */
  followRefreshMs?: number
  /** The largest record fetched from a followed publisher. @default MAX_RECORD_BYTES */
  maxRecordBytes?: number
  /** The largest directory block a walk (a followed lookup, a rebuild) reads. @default DEFAULT_MAX_DIRECTORY_BYTES */
  maxDirectoryBytes?: number
  /** The most directory blocks one followed lookup walks. @default DEFAULT_MAX_WALK_BLOCKS */
  maxWalkBlocks?: number
  /** The most files a rebuild of the index from the IPNS root reads. @default DEFAULT_MAX_TREE_ENTRIES */
  maxTreeEntries?: number
  /**
   * How often the current root is published again under IPNS (sequence + 1, a fresh validity) and
   * handed to the routing, on the mesh's clock, while the registry runs. Must be below
   * `ipnsLifetimeMs`. @default ipnsLifetimeMs / 2
   */
  ipnsRepublishMs?: number
  /** Bytes of checked record blocks kept in memory for warm lookups; 0 turns the cache off. @default DEFAULT_RECORD_CACHE_BYTES */
  recordCacheBytes?: number
}

/** Networked mode's options. */
export interface IpfsNetworkInit {
  /** Addresses to listen on. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: readonly string[]
  /** Multiaddrs (with `/p2p/<peerId>`) dialled when the node starts. @default [] */
  bootstrap?: readonly string[]
  /** libp2p options laid over the registry's (its `services` are added to the registry's). */
  libp2p?: Partial<Libp2pOptions>
  /** The private kad-dht's protocol id; nodes that share IPNS names must agree. @default DEFAULT_IPFS_DHT_PROTOCOL */
  dhtProtocol?: string
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
  /** The libp2p addresses (with `/p2p/<peerId>`) the node listens on; empty offline or before start. */
  readonly addrs: readonly string[]
}

/** A `Registry` backed by a Helia node: records as UnixFS files, the root named by IPNS. */
export interface IpfsRegistry extends Registry {
  status(): IpfsRegistryStatus
  /** The Helia node the registry stores records in (made by `start()` when the registry owns it). */
  readonly helia: Helia | undefined
  /** The libp2p node in networked mode (or of a given networked Helia), once started; undefined offline. */
  readonly libp2p: Libp2p | undefined
  /** `/ipns/<key>`: the name this registry's root is published under (once started), for `follow`. */
  readonly ipnsName: string | undefined
  /**
   * The node's blocks as a content store (raw blocks, pinned), for a chain registry's CID pointers:
   * `chainRegistry({ ..., contentStore: ipfs })` with the same `ipfsRegistry(...)` factory.
   */
  readonly contentStore: ContentStore
  watch(options?: AbortOptions): AsyncIterable<RegistryChange>
  start(): Promise<void>
  stop(): Promise<void>
}
