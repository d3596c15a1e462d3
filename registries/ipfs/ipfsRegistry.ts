import { createHash } from 'node:crypto'
import type { Helia } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { UnixFS, UnixFSComponents } from '@helia/unixfs'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import type { RegistryComponents } from '../../src/components.js'
import { ConfigError, PublishConflictError } from '../../src/errors/registry.js'
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
import type { BlockFileReader } from './_blockFile.js'
import { checkInit, type IpfsConfig } from './_checkInit.js'
import { movePins, traceBlocks } from './_dirPins.js'
import { Follower } from './_follow.js'
import { type OwnRoot, openRoot } from './_ipnsRoot.js'
import { recordSegments } from './_layout.js'
import { type IndexEntry, NameIndex } from './_nameIndex.js'
import { openOwnedNode } from './_node.js'
import { putAtPath } from './_tree.js'
import { IpfsBlockError } from './errors.js'
import type { IpfsRegistry, IpfsRegistryInit, IpfsRegistryStatus } from './types.js'

/**
 * A registry of function records on IPFS: each record a UnixFS file holding its canonical bytes at
 * `<namespace>/<path>.json` in a HAMT-sharded directory tree, the tree's root published under the
 * registry's IPNS name with a rising sequence, and an index of its own (name -> CID, seq, id) in the
 * datastore so a lookup is one blockstore read. Records are pinned, so `helia.gc()` keeps them.
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

/**
 * The node's keychain, with each exported key kept once read: IPNS exports the signing key on every
 * publish, and the keychain derives its decryption key (PBKDF2) for each export.
 */
function cachedKeychain(keychain: Helia['keychain']): Helia['keychain'] {
  const keys = new Map<string, ReturnType<Helia['keychain']['exportKey']>>()
  return new Proxy(keychain, {
    get(target, property, receiver) {
      if (property !== 'exportKey') return Reflect.get(target, property, receiver)
      return (keyName: string, options?: AbortOptions) => {
        let key = keys.get(keyName)
        if (key === undefined) {
          key = target.exportKey(keyName, options)
          keys.set(keyName, key)
          key.catch(() => keys.delete(keyName))
        }
        return key
      }
    },
  })
}

/** Directory CIDs kept in memory; past this the map starts again (a cache, never the truth). */
const MAX_KNOWN_DIRS = 10_000

/** What an open registry works with. */
interface Opened {
  readonly helia: Helia
  /** The own node's direct block reads; undefined on a given node. */
  readonly readBlockFile: BlockFileReader | undefined
  /** Gives the own node's directory back; undefined on a given node. */
  readonly release: (() => Promise<void>) | undefined
  readonly fs: UnixFS
  /** Makes a UnixFS over another blockstore (a traced one). */
  readonly unixfs: (components: UnixFSComponents) => UnixFS
  readonly index: NameIndex
  readonly own: OwnRoot
  /** The libp2p node in networked mode (own or given), else undefined. */
  readonly libp2p: Libp2p | undefined
  /** Followed publishers' lookups; undefined when none are followed. */
  readonly follower: Follower | undefined
}

class IpfsRegistryImpl implements IpfsRegistry {
  readonly id: string
  private readonly cfg: IpfsConfig
  private readonly verifier: RecordVerifier
  private readonly clock: RegistryComponents['clock']
  private readonly log: Logger
  private readonly watchers = watchQueue()
  private opened: Opened | undefined
  private opening: Promise<Opened> | undefined
  private started = false
  private tail: Promise<unknown> = Promise.resolve()
  /** The current tree's directory CIDs by path, as publishes made them (a publish walks no path it knows). */
  private readonly dirs = new Map<string, CID>()

  constructor(cfg: IpfsConfig, components: RegistryComponents) {
    this.cfg = cfg
    this.id = cfg.id
    this.verifier = components.verifier
    this.clock = components.clock
    this.log = components.logger(`registry:ipfs:${cfg.id}`)
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

  /** Routing puts of IPNS records under way (awaited on stop, so the node is not stopped under them). */
  private readonly announcing = new Set<Promise<void>>()

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
      const cid = await this.addRecordBlock(opened.helia, opened.fs, bytes)
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
      return raceSignal(this.readBlock(opened, cid, options.signal), options.signal, what)
    },
  }

  /** Adds canonical bytes as one pinned raw block: its CID has the record id's multihash. */
  private async addRecordBlock(helia: Helia, fs: UnixFS, bytes: Uint8Array): Promise<CID> {
    const cid = await fs.addBytes(bytes, { rawLeaves: true, reduceSingleLeafToSelf: true, cidVersion: 1 })
    if (!(await helia.pins.isPinned(cid))) for await (const _ of helia.pins.add(cid, { depth: 0 })) void _
    return cid
  }

  async start(): Promise<void> {
    await this.ready()
    this.started = true
  }

  async stop(): Promise<void> {
    const opening = this.opening
    if (opening === undefined) return
    this.started = false
    await this.tail.catch(() => undefined)
    const opened = await opening.catch(() => undefined)
    await Promise.all([...this.announcing])
    this.opening = undefined
    this.opened = undefined
    this.dirs.clear()
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
    }
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    const what = `${this.id} lookup`
    throwIfAborted(options.signal, what)
    const opened = this.opened ?? (await raceSignal(this.ready(), options.signal, what))
    const key = String(name).toLowerCase()
    const entry = opened.index.entries.get(key)
    if (entry === undefined)
      return opened.follower === undefined ? undefined : this.lookupFollowed(opened, key, options)
    const bytes = await raceSignal(this.readBlock(opened, entry.cid, options.signal), options.signal, what)
    return { bytes, location: `ipfs:/ipfs/${entry.cid}` }
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
      const bytes = await raceSignal(this.readBlock(opened, kept!.cid, options.signal), options.signal, what)
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
      if (held !== undefined && held.id === id)
        return { registry: this.id, location: `ipfs:/ipfs/${held.cid}` }
      if (held !== undefined && record.seq <= held.seq)
        throw new PublishConflictError(this.id, name, record.seq, held.seq)
      // Past this point the write runs to the end, so the tree, the index and IPNS stay in step.
      throwIfAborted(signal, what)
      const entry = await this.store(opened, name, { bytes: encoded.bytes, seq: record.seq, id })
      if (held !== undefined && !held.cid.equals(entry.cid)) await this.unpin(opened.helia, held.cid)
      this.watchers.notify({ names: [name], reason: 'publish' })
      return { registry: this.id, location: `ipfs:/ipfs/${entry.cid}` }
    })
  }

  /** Adds the record's file, pins it, puts it in the tree, publishes the new root, saves the index. */
  private async store(
    { helia, fs, unixfs, index, own }: Opened,
    name: string,
    record: { bytes: Uint8Array; seq: number; id: string },
  ): Promise<IndexEntry> {
    // One raw block: its CID has the record id's multihash (sha-256 of the canonical bytes).
    const cid = await this.addRecordBlock(helia, fs, record.bytes)
    const trace = traceBlocks(helia)
    const { root, dirs } = await putAtPath({
      fs: unixfs({ blockstore: trace.blockstore }),
      root: own.root,
      segments: recordSegments(name),
      file: cid,
      shardSplitThresholdBytes: this.cfg.shardSplitThresholdBytes,
      registry: this.id,
      known: this.dirs,
    })
    const sequence = await own.publish(root)
    const entry = { cid, seq: record.seq, id: record.id }
    await index.save(new Map([[name, entry]]), { root, ipnsSequence: sequence })
    // Only now the new root stands, and with it the directory CIDs on this path.
    if (this.dirs.size + dirs.size > MAX_KNOWN_DIRS) this.dirs.clear()
    for (const [path, dir] of dirs) this.dirs.set(path, dir)
    await movePins(helia, trace).catch((err: unknown) =>
      this.log.error('directory pins after %s: %s', name, (err as Error).message),
    )
    return entry
  }

  private async unpin(helia: Helia, cid: CID): Promise<void> {
    try {
      if (await helia.pins.isPinned(cid)) for await (const _ of helia.pins.rm(cid)) void _
    } catch (err) {
      this.log.error('unpin %s: %s', cid, (err as Error).message)
    }
  }

  /** The block's bytes, checked against its CID (a damaged blockstore never serves other bytes). */
  private async readBlock(
    { helia, readBlockFile }: Opened,
    cid: CID,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const direct = await readBlockFile?.(cid).catch(() => undefined)
    if (direct !== undefined) return this.checked(cid, direct)
    const chunks: Uint8Array[] = []
    try {
      for await (const chunk of helia.blockstore.get(cid, { offline: true, ...(signal ? { signal } : {}) }))
        chunks.push(chunk)
    } catch (err) {
      throw new IpfsBlockError(this.id, cid.toString(), 'missing', err)
    }
    return this.checked(cid, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
  }

  /** `bytes` if they hash to `cid`'s sha-256 multihash; a damaged block is never served. */
  private checked(cid: CID, bytes: Uint8Array): Uint8Array {
    const digest = createHash('sha256').update(bytes).digest()
    if (cid.multihash.code !== 0x12 || !digest.equals(cid.multihash.digest))
      throw new IpfsBlockError(this.id, cid.toString(), 'corrupt')
    return bytes
  }

  /** Opens the node, the IPNS key and the index once; later calls wait for the same work. */
  private ready(): Promise<Opened> {
    if (this.opening === undefined) {
      this.opening = this.open().then(
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

  private async open(): Promise<Opened> {
    if (this.cfg.helia !== undefined && this.cfg.helia.status !== 'started')
      throw new ConfigError(
        'ipfsRegistry.helia',
        `must be a started node (it is ${this.cfg.helia.status}): await helia.start() first`,
      )
    const owned =
      this.cfg.helia === undefined ? await openOwnedNode(this.id, this.cfg.dir!, this.cfg.network) : undefined
    const helia = this.cfg.helia ?? owned!.helia
    const libp2p = owned?.libp2p ?? givenLibp2p(this.cfg.helia)
    try {
      const [{ unixfs }, { ipns }] = await Promise.all([import('@helia/unixfs'), import('@helia/ipns')])
      const fs = unixfs(helia)
      const name: IPNS = ipns({
        datastore: helia.datastore,
        routing: helia.routing,
        logger: helia.logger,
        events: helia.events,
        keychain: cachedKeychain(helia.keychain),
      })
      const index = new NameIndex(helia.datastore, this.id)
      const own = await openRoot({
        registry: this.id,
        helia,
        unixfs,
        name,
        index,
        keyName: this.cfg.ipnsKey,
        lifetimeMs: this.cfg.ipnsLifetimeMs,
        verifier: this.verifier,
        log: this.log,
        now: () => this.clock.now(),
        ...(libp2p === undefined
          ? {}
          : { announce: (key: Uint8Array, record: Uint8Array) => this.announce(helia, key, record) }),
      })
      let follower: Follower | undefined
      if (this.cfg.follow.length > 0) {
        follower = new Follower({
          registry: this.id,
          helia,
          name,
          unixfs,
          publishers: this.cfg.follow,
          maxRecordBytes: this.cfg.maxRecordBytes,
          timeoutMs: this.cfg.followTimeoutMs,
          log: this.log,
          now: () => this.clock.now(),
          announce: (key, record) => this.announce(helia, key, record),
        })
        await follower.load()
      }
      return {
        helia,
        readBlockFile: owned?.readBlockFile,
        release: owned?.release,
        fs,
        unixfs,
        index,
        own,
        libp2p,
        follower,
      }
    } catch (err) {
      if (owned !== undefined) {
        await helia.stop().catch(() => undefined)
        await owned.release()
      }
      throw err
    }
  }

  /** Runs `work` after every earlier publish has finished. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work)
    this.tail = run.catch(() => undefined)
    return run
  }
}

/** The libp2p node of a given networked Helia (`createHelia`), undefined for `createHeliaLight`. */
function givenLibp2p(helia: Helia | undefined): Libp2p | undefined {
  if (helia === undefined) return undefined
  try {
    const node = (helia as { libp2p?: unknown }).libp2p
    return node !== null && typeof node === 'object' && 'dial' in node ? (node as Libp2p) : undefined
  } catch {
    return undefined // a Helia whose libp2p getter throws (not started)
  }
}
