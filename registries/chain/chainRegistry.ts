import { getAddress, id as keccakText, sha256, ZeroAddress } from 'ethers'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import type { RegistryComponents } from '../../src/components.js'
import type { Logger } from '../../src/logger.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { compileNamePattern } from '../../src/registry/namePattern.js'
import type {
  AbortOptions,
  ContentStore,
  PublishReceipt,
  RegistryChange,
  RegistryEntry,
} from '../../src/registry/types.js'
import { watchQueue } from '../../src/registry/watchQueue.js'
import type { ChainEvents } from './_chainEvents.js'
import { ChainTrust, keysOf } from './_chainTrust.js'
import { type ChainConfig, checkChainInit } from './_checkChainInit.js'
import { type Connection, connect, rpcError } from './_connection.js'
import { eventFollower } from './_follower.js'
import { lookupCall, versionMarks } from './_lookupCall.js'
import { type NamespaceWrite, namespaceWrites } from './_namespaceWrites.js'
import { anchorBytes } from './_pointers.js'
import { type PublishContext, publishAnchor, type Ready, signerAccount } from './_publishAnchor.js'
import { reasonOf } from './_rpcFailure.js'
import { Transactions } from './_transactions.js'
import { ChainDigestMismatchError } from './errors.js'
import type {
  ChainNamespace,
  ChainRegistry,
  ChainRegistryInit,
  ChainTransaction,
  VersionMarkStatus,
} from './types.js'

/**
 * A registry over a FunctionMeshRegistry contract on any EVM JSON-RPC node, and the chain as a
 * trust source: the mesh checks every record it finds, wherever from, against the namespace's
 * on-chain publisher keys. A lookup is one `eth_call` of `lookup(name)` returning the anchor (with
 * the canonical record bytes inline) and the namespace's keys. Returns a factory the mesh calls
 * with its components; options are checked at once.
 *
 * @example
 * ```ts
 * const chain = chainRegistry({ rpcUrl: node.rpcUrl, address, signer: node.accounts[0]!.privateKey })
 * const mesh = await createMesh({ registries: [chain] }) // no pinned owners: the chain says who publishes
 * const registry = mesh.registry<ChainRegistry>('chain')
 * await registry.claim('acme.com')
 * await registry.addPublisher('acme.com', signer.id)
 * await mesh.publish(draft, { signer })
 * ```
 */
export function chainRegistry(init: ChainRegistryInit): (components: RegistryComponents) => ChainRegistry {
  const cfg = checkChainInit(init)
  return (components) => new ChainRegistryImpl(cfg, components)
}

class ChainRegistryImpl implements ChainRegistry {
  readonly id: string
  readonly address: string
  readonly trustSource: ChainTrust
  private readonly cfg: ChainConfig
  private readonly components: RegistryComponents
  private readonly log: Logger
  // Changes read at start (since the cursor) are kept until the mesh follows the watch.
  private readonly watchers = watchQueue({ backlog: 1000 })
  private opening: Promise<Ready> | undefined
  private connected: Ready | undefined
  private readonly transactions: Transactions
  private knownChainId: number | undefined
  private started = false
  private timer: NodeJS.Timeout | undefined
  private resolvedStore: ContentStore | undefined
  private readonly publishing: PublishContext

  constructor(cfg: ChainConfig, components: RegistryComponents) {
    this.cfg = cfg
    this.id = cfg.id
    this.address = getAddress(cfg.address)
    this.components = components
    this.log = components.logger(`registry:chain:${cfg.id}`)
    this.transactions = new Transactions(cfg.id, cfg.confirmations, this.log)
    this.trustSource = new ChainTrust({
      clock: components.clock,
      maxAgeMs: cfg.trustMaxAgeMs,
      id: () => `chain:${this.chainId ?? cfg.init.chainId ?? '?'}/${this.address}`,
      ready: async (options) => {
        const { conn, events } = await this.ready(options)
        return { contract: conn.contract, rpcUrl: conn.rpcUrl, events }
      },
    })
    this.publishing = {
      id: this.id,
      address: this.address,
      cfg,
      verifier: components.verifier,
      transactions: this.transactions,
      store: () => this.store(),
      ready: (options) => this.ready(options),
      ownerOf: async (namespace) => (await this.namespace(namespace))?.owner,
    }
  }

  /** The chain id read at the first connection (kept after stop, so the trust source's id stays). */
  get chainId(): number | undefined {
    return this.knownChainId
  }

  /** The last block whose events were applied, once started. */
  get processedBlock(): number | undefined {
    return this.connected?.events.lastBlock
  }

  async start(): Promise<void> {
    const { events } = await this.ready()
    if (this.started) return
    // The events since the cursor (or `fromBlock`) are read before start returns: lookups then find
    // every anchor they meet already processed, so a reorg can undo the seq floor it set.
    await events.sync()
    if (this.started) return
    this.started = true
    this.poll(false)
  }

  async stop(): Promise<void> {
    if (!this.started && this.opening === undefined) return
    this.started = false
    clearTimeout(this.timer)
    this.timer = undefined
    const opening = this.opening
    this.opening = undefined
    this.connected = undefined
    const ready = await opening?.catch(() => undefined)
    await this.transactions.drain()
    if (ready?.conn.ownsProvider) ready.conn.provider.destroy()
    this.trustSource.clear()
  }

  async account(): Promise<string | undefined> {
    const { conn } = await this.ready()
    return conn.signer === undefined ? undefined : signerAccount(this.id, conn, 'account')
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    throwIfAborted(options.signal, `${this.id} lookup`)
    const text = String(name)
    if (!text.includes('/')) return undefined
    const { conn, events } = await this.ready(options)
    const generation = this.trustSource.generation
    const at = this.components.clock.now()
    const answer = await raceSignal(this.read(conn, events, text), options.signal, `${this.id} lookup`)
    const namespace = text.slice(0, text.indexOf('/'))
    // The same answer carries the namespace's keys: the mesh's owner check then needs no second call.
    this.trustSource.remember(
      keccakText(namespace),
      keysOf(answer.owner, [...answer.publishers]),
      at,
      generation,
    )
    const { anchor } = answer
    if (anchor.seq === 0n) return undefined
    // The anchored seq is the floor for this name wherever its record is found: lower is a rollback.
    // An anchor newer than the processed events is read from the events first, so that the follower
    // knows its block and a reorg that removes it takes the floor back.
    if (anchor.updatedAtBlock > BigInt(events.lastBlock))
      await raceSignal(events.sync(), options.signal, `${this.id} lookup`)
    if (anchor.updatedAtBlock <= BigInt(events.lastBlock))
      this.components.seqLedger.accept(text, Number(anchor.seq))
    const location = `chain:${conn.chainId}/${this.address}@${anchor.updatedAtBlock}`
    const bytes = await anchorBytes(this.store(), text, anchor, options.signal)
    const digest = sha256(bytes)
    if (digest !== anchor.recordDigest) throw new ChainDigestMismatchError(text, anchor.recordDigest, digest)
    const marks = versionMarks(answer.marks)
    return { bytes: new Uint8Array(bytes), location, ...(marks === undefined ? {} : { marks }) }
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    throwIfAborted(options.signal, `${this.id} list`)
    const { events } = await this.ready(options)
    await events.sync(options.signal)
    for (const name of [...events.names.keys()]) {
      throwIfAborted(options.signal, `${this.id} list`)
      if (match(name)) yield name
    }
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.watchers.follow(options.signal, `${this.id} watch`)
  }

  async sync(options: AbortOptions = {}): Promise<void> {
    const { events } = await this.ready(options)
    await events.sync(options.signal)
  }

  async anchoredSeq(name: string, options: AbortOptions = {}): Promise<number> {
    const { conn } = await this.ready(options)
    const answer = await raceSignal(
      lookupCall(conn, this.id, String(name)),
      options.signal,
      `${this.id} anchoredSeq`,
    )
    return Number(answer.anchor.seq)
  }

  async namespace(namespace: string, options: AbortOptions = {}): Promise<ChainNamespace | undefined> {
    const { conn } = await this.ready(options)
    let answer: [{ owner: string; pendingOwner: string }, string[]]
    try {
      answer = await raceSignal(
        conn.contract.getFunction('namespaceOf').staticCall(keccakText(namespace)),
        options.signal,
        `${this.id} namespace`,
      )
    } catch (err) {
      throw rpcError(conn.rpcUrl, `read namespace ${namespace}`, err)
    }
    const [ns, publishers] = answer
    if (ns.owner === ZeroAddress) return undefined
    return {
      owner: ns.owner,
      ...(ns.pendingOwner === ZeroAddress ? {} : { pendingOwner: ns.pendingOwner }),
      publishers: keysOf(ns.owner, [...publishers]) ?? [],
    }
  }

  publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    return publishAnchor(this.publishing, encoded, options)
  }

  claim(namespace: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.claim(namespace), options)
  }

  addPublisher(namespace: string, keyId: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.addPublisher(namespace, keyId), options)
  }

  removePublisher(namespace: string, keyId: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.removePublisher(namespace, keyId), options)
  }

  transferOwnership(namespace: string, to: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.transferOwnership(namespace, to), options)
  }

  cancelOwnershipTransfer(namespace: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.cancelOwnershipTransfer(namespace), options)
  }

  acceptOwnership(namespace: string, options: AbortOptions = {}): Promise<ChainTransaction> {
    return this.change(namespaceWrites.acceptOwnership(namespace), options)
  }

  markVersion(
    name: string,
    version: string,
    status: VersionMarkStatus,
    options: AbortOptions = {},
  ): Promise<ChainTransaction> {
    return this.change(namespaceWrites.markVersion(name, version, status), options)
  }

  /** Connects and checks the contract once; later calls share it (a failure is retried next call). */
  private ready(options: AbortOptions = {}): Promise<Ready> {
    if (this.opening === undefined) {
      this.opening = connect(this.cfg).then(
        (conn) => {
          let events: ChainEvents
          try {
            events = this.follower(conn)
          } catch (err) {
            if (conn.ownsProvider) conn.provider.destroy()
            throw err
          }
          this.connected = { conn, events }
          this.knownChainId = conn.chainId
          return this.connected
        },
        (err: unknown) => {
          this.opening = undefined
          throw err
        },
      )
    }
    return raceSignal(this.opening, options.signal, `${this.id} connect`)
  }

  /**
   * The contract's answer for `name`: at the head, or with confirmations at the last processed
   * (confirmed) block, so an unconfirmed anchor is never served.
   */
  private async read(conn: Connection, events: ChainEvents, name: string) {
    // Before the first sync a restored cursor is unchecked, and the blocks it names may be gone.
    if (!events.synced) await events.sync()
    if (this.cfg.confirmations === 0) return lookupCall(conn, this.id, name)
    return lookupCall(conn, this.id, name, events.lastBlock)
  }

  /** The content store CID pointers lead to, if configured (the IPFS registry's, made once). */
  private store(): ContentStore | undefined {
    const given = this.cfg.init.contentStore
    if (typeof given !== 'function') return given
    this.resolvedStore ??= given(this.components).contentStore
    return this.resolvedStore
  }

  /** The event follower over `conn`, resuming from its cursor file. */
  private follower(conn: Connection): ChainEvents {
    return eventFollower(conn, {
      registry: this.id,
      address: this.address,
      cfg: this.cfg,
      components: this.components,
      log: this.log,
      onTrustChange: (nsHash) => this.trustSource.invalidate(nsHash),
      onChange: (change) => this.watchers.notify(change),
    })
  }

  private async change({ ctx, build }: NamespaceWrite, options: AbortOptions): Promise<ChainTransaction> {
    throwIfAborted(options.signal, `${this.id} ${ctx.operation}`)
    const { conn, events } = await this.ready(options)
    const account = await signerAccount(this.id, conn, ctx.operation)
    return this.transactions.send(
      { conn, events },
      { registry: this.id, account, ...ctx },
      build,
      options.signal,
    )
  }

  /**
   * Reads new events at start and then every `pollIntervalMs`: `watch`, the name index, trust
   * invalidation, and anchored seqs into the mesh's seq ledger.
   */
  private poll(first = true): void {
    if (!this.started) return
    this.timer = setTimeout(
      () => {
        const ready = this.connected
        if (ready === undefined) return
        ready.events
          .sync()
          .catch((err: unknown) => this.log.error('polling events: %s', reasonOf(err)))
          .finally(() => this.poll(false))
      },
      first ? 0 : this.cfg.pollIntervalMs,
    )
    this.timer.unref()
  }
}
