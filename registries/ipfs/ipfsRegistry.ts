import type { Helia } from '@helia/interface'
import type { Libp2p } from '@libp2p/interface'
import { LRUCache } from 'lru-cache'
import { CID } from 'multiformats/cid'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import type { RegistryComponents } from '../../src/components.js'
import { PublishConflictError } from '../../src/errors/registry.js'
import type { Logger } from '../../src/logger.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { checkEncodedRecord } from '../../src/registry/checkEncodedRecord.js'
import { compileNamePattern } from '../../src/registry/namePattern.js'
import type {
  AbortOptions,
  ContentStore,
  PublishReceipt,
  RegistryChange,
  RegistryEntry,
} from '../../src/registry/types.js'
import { watchQueue } from '../../src/registry/watchQueue.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { checkInit, type IpfsConfig } from './_checkInit.js'
import { movePins, traceBlocks } from './_dirPins.js'
import { recordSegments } from './_layout.js'
import type { IndexEntry } from './_nameIndex.js'
import { type Opened, openRegistry } from './_open.js'
import { Republisher } from './_republish.js'
import { putAtPath } from './_tree.js'
import type { IpfsRegistry, IpfsRegistryInit, IpfsRegistryStatus } from './types.js'

/**
 * A registry of function records on IPFS: each record a UnixFS file holding its canonical bytes at
 * `<namespace>/<path>.json` in a HAMT-sharded directory tree, the tree's root published under the
 * registry's IPNS name with a rising sequence (and published again before it expires), and an index
 * of its own (name -> CID, seq, id) in the datastore so a lookup is one blockstore read. Records are
 * pinned while something serves them, so `helia.gc()` keeps them and removes superseded versions.
 * Returns a factory the mesh calls with its components; options are checked at once.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({
 *   registries: [ipfsRegistry({ dir: '.fmesh/ipfs' })],
 *   trust: { owners: { 'acme.com': [signer.id] } },
 * })
 * await mesh.publish(record, { signer })
 * mesh.registry<IpfsRegistry>('ipfs').status() // { root, ipnsName, ipnsSequence, names, ... }
 * ```
 */
export function ipfsRegistry(init: IpfsRegistryInit): (components: RegistryComponents) => IpfsRegistry {
  const cfg = checkInit(init)
  // One registry per mesh: a chain registry given this factory as its `contentStore` gets the
  // instance the mesh made, not a second node on the same directory.
  const made = new WeakMap<RegistryComponents, IpfsRegistry>()
  return (components) => {
    let registry = made.get(components)
    if (registry === undefined) {
      registry = new IpfsRegistryImpl(cfg, components)
      made.set(components, registry)
    }
    return registry
  }
}

/** Directory CIDs kept in memory; past this the map starts again (a cache, never the truth). */
const MAX_KNOWN_DIRS = 10_000
/** Own names whose entries a warm lookup answers from memory. */
const MAX_SERVED_NAMES = 4_096

class IpfsRegistryImpl implements IpfsRegistry {
  readonly id: string
  private readonly cfg: IpfsConfig
  private readonly verifier: RecordVerifier
  private readonly clock: RegistryComponents['clock']
  private readonly log: Logger
  private readonly watchers = watchQueue()
  private readonly republisher: Republisher
  private opened: Opened | undefined
  private opening: Promise<Opened> | undefined
  private started = false
  private tail: Promise<unknown> = Promise.resolve()
  /** The current tree's directory CIDs by path, as publishes made them (a publish walks no path it knows). */
  private readonly dirs = new Map<string, CID>()
  /** Routing puts of IPNS records under way (awaited on stop, so the node is not stopped under them). */
  private readonly announcing = new Set<Promise<void>>()
  /**
   * Own names looked up lately, with their checked bytes: a warm lookup reads this small map instead
   * of the index, whose memory grows with the registry (a hash lookup in a large map misses the CPU
   * caches). A publish of the name drops it; only own names, never followed ones, are kept.
   */
  private readonly served: LRUCache<string, { bytes: Uint8Array; location: string }> | undefined

  constructor(cfg: IpfsConfig, components: RegistryComponents) {
    this.cfg = cfg
    this.id = cfg.id
    this.verifier = components.verifier
    this.clock = components.clock
    this.log = components.logger(`registry:ipfs:${cfg.id}`)
    this.served =
      cfg.recordCacheBytes > 0
        ? new LRUCache({
            max: MAX_SERVED_NAMES,
            maxSize: cfg.recordCacheBytes,
            sizeCalculation: (entry) => Math.max(1, entry.bytes.byteLength),
          })
        : undefined
    this.republisher = new Republisher({
      clock: this.clock,
      intervalMs: cfg.ipnsRepublishMs,
      republish: () => this.exclusive(() => this.republishRoot()),
      log: this.log,
    })
  }

  get helia(): Helia | undefined {
    return this.opened?.helia
  }

  get libp2p(): Libp2p | undefined {
    return this.opened?.libp2p
  }

  get ipnsName(): string | undefined {
    return this.opened?.own.ipnsName
  }

  private announce(helia: Helia, routingKey: Uint8Array, record: Uint8Array): void {
    const put = helia.routing
      .put(routingKey, record, { signal: AbortSignal.timeout(this.cfg.followTimeoutMs) })
      .catch((err: unknown) => this.log('IPNS record to the routing: %s', (err as Error).message))
      .finally(() => this.announcing.delete(put))
    this.announcing.add(put)
  }

  readonly contentStore: ContentStore = {
    put: async (bytes, options = {}) => {
      const what = `${this.id} content put`
      throwIfAborted(options.signal, what)
      const opened = this.opened ?? (await raceSignal(this.ready(), options.signal, what))
      const cid = await opened.blocks.add(bytes)
      // Held for the chain anchor that points at it, whatever the index later does with the record.
      await opened.pins.holdContent(cid)
      return cid.toString()
    },
    get: async (text, options = {}) => {
      const what = `${this.id} content get`
      throwIfAborted(options.signal, what)
      let cid: CID
      try {
        cid = CID.parse(String(text))
      } catch {
        return undefined // not a CID, so not a block this store holds
      }
      const opened = this.opened ?? (await raceSignal(this.ready(), options.signal, what))
      if (!(await opened.helia.blockstore.has(cid))) return undefined
      return raceSignal(opened.blocks.read(cid, options.signal), options.signal, what)
    },
  }

  async start(): Promise<void> {
    await this.ready()
    this.started = true
    this.republisher.start()
  }

  async stop(): Promise<void> {
    const opening = this.opening
    if (opening === undefined) return
    this.started = false
    await this.republisher.stop()
    await this.tail.catch(() => undefined)
    const opened = await opening.catch(() => undefined)
    await Promise.all([...this.announcing])
    this.opening = undefined
    this.opened = undefined
    this.dirs.clear()
    this.served?.clear()
    if (opened !== undefined && this.cfg.helia === undefined) {
      await opened.helia.stop()
      await opened.release?.()
    }
  }

  status(): IpfsRegistryStatus {
    const own = this.opened?.own
    return {
      id: this.id,
      ...(this.cfg.dir === undefined ? {} : { dir: this.cfg.dir }),
      started: this.started,
      ...(own === undefined
        ? {}
        : { root: own.root.toString(), ipnsName: own.ipnsName, ipnsSequence: own.sequence }),
      names: this.opened?.index.entries.size ?? 0,
      addrs: this.opened?.libp2p?.getMultiaddrs().map((a) => a.toString()) ?? [],
    }
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    const what = `${this.id} lookup`
    throwIfAborted(options.signal, what)
    const key = String(name).toLowerCase()
    const served = this.opened === undefined ? undefined : this.served?.get(key)
    if (served !== undefined) return { bytes: served.bytes, location: served.location }
    const opened = this.opened ?? (await raceSignal(this.ready(), options.signal, what))
    const cid = opened.index.entries.cidText(key)
    if (cid === undefined) {
      // Only names the tree can hold are looked for: `..`, `/x`, `%2F` and the like are refused.
      recordSegments(key, this.id)
      return opened.follower === undefined ? undefined : this.lookupFollowed(opened, key, options)
    }
    const bytes = await raceSignal(opened.blocks.read(cid, options.signal), options.signal, what)
    const found = { bytes, location: `ipfs:/ipfs/${cid}` }
    // Kept only if no publish of the name changed the index while the block was read.
    if (opened.index.entries.cidText(key) === cid) this.served?.set(key, found)
    return { bytes, location: found.location }
  }

  /**
   * A name this registry does not publish: the copy fetched from a followed publisher while it is
   * fresh, else the publishers asked again; a kept copy is still served when none of them answers
   * (the publisher went away), but never over a rollback or a damaged block.
   */
  private async lookupFollowed(
    opened: Opened,
    name: string,
    options: AbortOptions,
  ): Promise<RegistryEntry | undefined> {
    const follower = opened.follower!
    const what = `${this.id} lookup`
    const kept = follower.entries.get(name)
    const serveKept = async () => {
      const bytes = await raceSignal(opened.blocks.read(kept!.cid, options.signal), options.signal, what)
      return { bytes, location: `ipfs:/ipfs/${kept!.cid}` }
    }
    if (kept !== undefined && this.clock.now() - kept.fetchedAt < this.cfg.followRefreshMs) return serveKept()
    try {
      const found = await follower.fetch(name, options.signal)
      if (found !== undefined) return { bytes: found.bytes, location: `ipfs:/ipfs/${found.cid}` }
      return kept === undefined ? undefined : serveKept()
    } catch (err) {
      if ((err as Error).name === 'IpfsFollowError' && kept !== undefined) return serveKept()
      throw err
    }
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    const what = `${this.id} list`
    throwIfAborted(options.signal, what)
    const { index, follower } = this.opened ?? (await raceSignal(this.ready(), options.signal, what))
    const followed =
      follower === undefined ? [] : [...follower.entries.keys()].filter((n) => !index.entries.has(n))
    for (const name of [...index.entries.keys(), ...followed]) {
      throwIfAborted(options.signal, what)
      if (match(name)) yield name
    }
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.watchers.follow(options.signal, `${this.id} watch`)
  }

  async publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    const signal = options.signal
    const what = `${this.id} publish`
    throwIfAborted(signal, what)
    const name = checkEncodedRecord(encoded, this.id)
    const { record, id } = await this.verifier.verify(encoded.bytes, {
      origin: what,
      expectName: name,
      allowExpired: true,
      unowned: 'integrity',
      ...(signal === undefined ? {} : { signal }),
    })
    const opened = await raceSignal(this.ready(), signal, what)
    return this.exclusive(async () => {
      const held = opened.index.entries.get(name)
      if (held !== undefined && held.id === id) return this.receipt(opened, held.cid)
      if (held !== undefined && record.seq <= held.seq)
        throw new PublishConflictError(this.id, name, record.seq, held.seq)
      // Past this point the write runs to the end, so the tree, the index and IPNS stay in step.
      throwIfAborted(signal, what)
      const entry = await this.store(opened, name, { bytes: encoded.bytes, seq: record.seq, id })
      // The superseded version (a replaced or yanked record) is released unless a followed copy or a
      // content-store put still holds it.
      if (held !== undefined && !held.cid.equals(entry.cid))
        await opened.pins.release(held.cid, opened.follower?.entries.get(name)?.cid.equals(held.cid) === true)
      this.watchers.notify({ names: [name], reason: 'publish' })
      return this.receipt(opened, entry.cid)
    })
  }

  /** Where the record is, and the IPNS name (and sequence) its root is now published under. */
  private receipt({ own }: Opened, cid: CID): PublishReceipt {
    return {
      registry: this.id,
      location: `ipfs:/ipfs/${cid}`,
      ipnsName: own.ipnsName,
      ipnsSequence: own.sequence.toString(),
    }
  }

  /** Adds the record's file, pins it, puts it in the tree, publishes the new root, saves the index. */
  private async store(
    { helia, unixfs, index, own, blocks }: Opened,
    name: string,
    record: { bytes: Uint8Array; seq: number; id: string },
  ): Promise<IndexEntry> {
    const segments = recordSegments(name, this.id)
    // One raw block: its CID has the record id's multihash (sha-256 of the canonical bytes).
    const cid = await blocks.add(record.bytes)
    const trace = traceBlocks(helia)
    const { root, dirs } = await putAtPath({
      fs: unixfs({ blockstore: trace.blockstore }),
      root: own.root,
      segments,
      file: cid,
      shardSplitThresholdBytes: this.cfg.shardSplitThresholdBytes,
      registry: this.id,
      known: this.dirs,
    })
    const sequence = await own.publish(root)
    this.republisher.published()
    const entry = { cid, seq: record.seq, id: record.id }
    await index.save(new Map([[name, entry]]), { root, ipnsSequence: sequence, publishedAt: own.publishedAt })
    this.served?.delete(name)
    // Only now the new root stands, and with it the directory CIDs on this path.
    if (this.dirs.size + dirs.size > MAX_KNOWN_DIRS) this.dirs.clear()
    for (const [path, dir] of dirs) this.dirs.set(path, dir)
    await movePins(helia, trace).catch((err: unknown) =>
      this.log.error('directory pins after %s: %s', name, (err as Error).message),
    )
    return entry
  }

  /** Publishes the current root again (the sequence rises, the validity starts over) and saves it. */
  private async republishRoot(): Promise<void> {
    const opened = this.opened
    if (opened === undefined || !this.started) return
    const { own, index } = opened
    const root = own.root
    const sequence = await own.publish(root)
    await index.save(new Map(), { root, ipnsSequence: sequence, publishedAt: own.publishedAt })
    this.log('republished %s at sequence %s', root, sequence)
    this.republisher.published()
  }

  /** Opens the node, the IPNS key and the index once; later calls wait for the same work. */
  private ready(): Promise<Opened> {
    if (this.opening === undefined) {
      this.opening = openRegistry({
        cfg: this.cfg,
        verifier: this.verifier,
        log: this.log,
        now: () => this.clock.now(),
        announce: (helia, key, record) => this.announce(helia, key, record),
      }).then(
        (opened) => {
          this.opened = opened
          return opened
        },
        (err: unknown) => {
          this.opening = undefined
          throw err
        },
      )
    }
    return this.opening
  }

  /** Runs `work` after every earlier publish has finished. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work)
    this.tail = run.catch(() => undefined)
    return run
  }
}
