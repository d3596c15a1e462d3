import type { Provider, Signer } from 'ethers'
import type { RegistryComponents } from '../../src/components.js'
import type { AbortOptions, ContentStore, Registry, RegistryChange } from '../../src/registry/types.js'
import type { TrustSource } from '../../src/trust/types.js'

export interface ChainRegistryInit {
  /** A JSON-RPC URL (http or ws); the registry makes its own provider. One of `rpcUrl`, `provider`. */
  rpcUrl?: string
  /**
   * An ethers provider. Give a JsonRpcProvider `staticNetwork` (or it retries a dead node forever)
   * and `cacheTimeout: -1` (or back-to-back transactions reuse a nonce).
   */
  provider?: Provider
  /** The FunctionMeshRegistry's address (from `deployRegistry`). */
  address: string
  /** Signs transactions: an ethers Signer or a 0x private key. Without it the registry is read-only. */
  signer?: Signer | string
  /** The chain the node must serve; start fails with E_CHAIN_ID_MISMATCH otherwise. Default: the node's. */
  chainId?: number
  /** Blocks a publish waits for after its own. @default DEFAULT_CHAIN_CONFIRMATIONS */
  confirmations?: number
  /** Where the event index starts: the deploy block (`deployRegistry().blockNumber`). @default 0 */
  fromBlock?: number
  /**
   * Whether `publish` claims an unclaimed namespace for the signer's account first. The first claim
   * wins, so on a shared chain turn it off and claim on purpose. @default true
   */
  autoClaim?: boolean
  /**
   * How old the trust source's view of the contract's events may be before `publishersOf` reads
   * the new events (one `eth_getLogs`) first. @default DEFAULT_CHAIN_TRUST_MAX_AGE_MS
   */
  trustMaxAgeMs?: number
  /** How often `watch` polls for new events. @default DEFAULT_CHAIN_POLL_INTERVAL_MS */
  pollIntervalMs?: number
  /**
   * How long one JSON-RPC request to `rpcUrl` may take before it fails with E_CHAIN_RPC (not used
   * with `provider`, whose own settings apply). @default DEFAULT_CHAIN_RPC_TIMEOUT_MS
   */
  rpcTimeoutMs?: number
  /** @default 'chain' */
  id?: string
  /**
   * The file where the event follower keeps the last block it processed (and the recent block
   * hashes it needs to undo a reorg), so a restarted registry resumes after it; `false` keeps none
   * (every start reads the events from `fromBlock`). Keep one file per registry.
   * @default `<dataDir>/chain/<id>-<chainId>-<address>.json` (the mesh's `dataDir`)
   */
  cursor?: string | false
  /**
   * Where CID pointers lead: a content store, or the `ipfsRegistry(...)` factory the mesh also
   * gets (the chain registry then uses that very registry's blocks). Needed to publish records over
   * the 4 KiB an anchor holds inline, and to look up anchors that point at a CID.
   */
  contentStore?: ContentStore | ((components: RegistryComponents) => { readonly contentStore: ContentStore })
  /**
   * How a publish anchors the record: `inline` (the canonical bytes in the anchor, up to 4 KiB),
   * `cid` (the bytes into `contentStore`, their CID in the anchor), or `auto`: inline when they fit,
   * else a CID when there is a content store. @default 'auto'
   */
  pointer?: 'inline' | 'cid' | 'auto'
}

/** Where a transaction landed. */
export interface ChainTransaction {
  readonly transactionHash: string
  readonly blockNumber: number
}

/** A namespace as the contract holds it. */
export interface ChainNamespace {
  readonly owner: string
  /** The account a two-step transfer waits for, if one is pending. */
  readonly pendingOwner?: string
  /** The publisher keys as did:keys. */
  readonly publishers: readonly string[]
}

/** Version mark flags: `deprecated`, `yanked`, both, or `none` to clear. */
export type VersionMarkStatus = 'none' | 'deprecated' | 'yanked' | 'deprecated+yanked'

/** A registry over a FunctionMeshRegistry contract, and the chain as a trust source. */
export interface ChainRegistry extends Registry {
  /** Namespace owners and keys from the contract: did:keys of a claimed namespace, undefined for an unclaimed one. */
  readonly trustSource: TrustSource
  /** The last block whose events were applied (watch, list, trust, seq floors), once started. */
  readonly processedBlock: number | undefined
  /** The chain id, known once started. */
  readonly chainId: number | undefined
  readonly address: string
  /** Connects and checks the chain id and the contract's code; starts the event poll. Idempotent. */
  start(): Promise<void>
  /** Stops the poll and closes the provider this registry made. Idempotent; a later call reconnects. */
  stop(): Promise<void>
  /** The signer's account, if the registry has a signer. */
  account(): Promise<string | undefined>
  /** The namespace's owner, pending owner and publisher keys, or undefined when unclaimed. */
  namespace(namespace: string, options?: AbortOptions): Promise<ChainNamespace | undefined>
  /** The seq anchored for `name`, 0 when none. */
  anchoredSeq(name: string, options?: AbortOptions): Promise<number>
  claim(namespace: string, options?: AbortOptions): Promise<ChainTransaction>
  addPublisher(namespace: string, keyId: string, options?: AbortOptions): Promise<ChainTransaction>
  removePublisher(namespace: string, keyId: string, options?: AbortOptions): Promise<ChainTransaction>
  /** Starts a two-step transfer to `to`; nothing changes until `to` accepts. */
  transferOwnership(namespace: string, to: string, options?: AbortOptions): Promise<ChainTransaction>
  cancelOwnershipTransfer(namespace: string, options?: AbortOptions): Promise<ChainTransaction>
  /** Completes a transfer (the signer is the new owner); the old owner's keys are dropped. */
  acceptOwnership(namespace: string, options?: AbortOptions): Promise<ChainTransaction>
  markVersion(
    name: string,
    version: string,
    status: VersionMarkStatus,
    options?: AbortOptions,
  ): Promise<ChainTransaction>
  /**
   * The names of RecordAnchored and VersionMarked events as the poll reads them (once each, across
   * restarts with a cursor); for a namespace whose keys or owner changed, the namespace
   * (`namespaces`) and its anchored names; after a reorg (`reason: 'chain reorg'`), the names and
   * namespaces whose logs were removed. Changes read before anyone watches wait for the first watcher.
   */
  watch(options?: AbortOptions): AsyncIterable<RegistryChange>
  /** Reads the contract's new events now: the name index, trust cache invalidation and watchers. */
  sync(options?: AbortOptions): Promise<void>
}
