import { createHash } from 'node:crypto'
import type { Helia } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { UnixFS, UnixFSComponents } from '@helia/unixfs'
import { type Datastore, Key } from 'interface-datastore'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { AbortedError } from '../../src/errors/resolve.js'
import type { Logger } from '../../src/logger.js'
import { pinBlock, traceBlocks, unpinBlock } from './_dirPins.js'
import { rootOf } from './_ipnsRoot.js'
import { recordSegments } from './_layout.js'
import {
  IpfsBlockError,
  IpfsDirectoryTooLargeError,
  IpfsFollowError,
  IpfsRecordTooLargeError,
  IpnsRecordInvalidError,
  IpnsRollbackError,
} from './errors.js'

/** A record fetched from a followed publisher, kept (and pinned) so it is served after the publisher goes. */
export interface FollowedEntry {
  readonly cid: CID
  /** `/ipns/<key>` of the publisher it came from. */
  readonly publisher: string
  /** When it was fetched or last confirmed (the mesh clock, ms). */
  readonly fetchedAt: number
  /** The directory blocks on its path under the publisher's root it came from (pinned while it is kept). */
  readonly dirs: readonly CID[]
}

export interface FollowerInit {
  registry: string
  helia: Helia
  name: IPNS
  unixfs: (components: UnixFSComponents) => UnixFS
  /** `/ipns/<key>` names, asked in this order. */
  publishers: readonly string[]
  maxRecordBytes: number
  /** How long a resolved root is used again (capped by its IPNS record's TTL); 0 asks every time. */
  rootReuseMs: number
  /** The largest directory block a lookup's walk reads. */
  maxDirectoryBytes: number
  /** The most directory blocks a lookup's walk reads. */
  maxWalkBlocks: number
  timeoutMs: number
  log: Logger
  now: () => number
  /** Hands an IPNS record to the routing on the side (this node's DHT store first, then peers). */
  announce: (routingKey: Uint8Array, record: Uint8Array) => void
  /** Releases a followed name's superseded record block (unless something else holds it). */
  releaseRecord: (name: string, cid: CID) => Promise<void>
}

const EntrySchema = z.strictObject({
  cid: z.string(),
  publisher: z.string(),
  fetchedAt: z.number(),
  dirs: z.array(z.string()).optional(),
})
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex')
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The libp2p-key CID an `/ipns/<key>` name stands for. */
export function ipnsKeyCid(name: string): CID {
  const cid = CID.parse(name.replace(/^\/ipns\//, ''), base36)
  if (cid.code !== LIBP2P_KEY) throw new Error('not a libp2p-key CID')
  return cid
}

const LIBP2P_KEY = 0x72
const DAG_PB = 0x70

/** `@helia/ipns` errors that say a record was found but cannot be used. */
const INVALID_RECORD = new Set([
  'RecordsFailedValidationError',
  'InvalidValueError',
  'InvalidRecordDataError',
  'SignatureVerificationError',
  'InvalidEmbeddedPublicKeyError',
  'UnsupportedValidityError',
])

/**
 * Looks names up at followed publishers: resolves each one's IPNS name to its root through the
 * routing (the private DHT), walks the record's path over bitswap, checks the bytes against the
 * CID, pins what it read and remembers where the record came from (in the datastore, so a restart
 * keeps serving it). Each publisher's highest IPNS sequence seen is kept too: a lower one is refused.
 */
export class Follower {
  readonly entries = new Map<string, FollowedEntry>()
  private readonly seen = new Map<string, bigint>()
  /** Each publisher's root as last resolved, and until when it is used without asking again. */
  private readonly roots = new Map<string, { root: CID; until: number }>()
  private readonly announced = new Map<string, bigint>()
  /** How many kept entries' paths run through each directory block (its pin goes with the last). */
  private readonly dirRefs = new Map<string, number>()
  private readonly datastore: Datastore
  private readonly prefix: string

  constructor(private readonly init: FollowerInit) {
    this.datastore = init.helia.datastore
    this.prefix = `/fmesh-ipfs/${hex(init.registry)}/follow`
  }

  async load(): Promise<void> {
    for await (const { key, value } of this.datastore.query({ prefix: `${this.prefix}/seen` })) {
      const publisher = Buffer.from(key.baseNamespace(), 'hex').toString('utf8')
      const text = decoder.decode(value)
      if (/^\d+$/.test(text)) this.seen.set(publisher, BigInt(text))
    }
    for await (const { key, value } of this.datastore.query({ prefix: `${this.prefix}/names` })) {
      const name = Buffer.from(key.baseNamespace(), 'hex').toString('utf8')
      try {
        const entry = EntrySchema.parse(JSON.parse(decoder.decode(value)))
        const kept = {
          cid: CID.parse(entry.cid),
          publisher: entry.publisher,
          fetchedAt: entry.fetchedAt,
          dirs: (entry.dirs ?? []).map((d) => CID.parse(d)),
        }
        this.entries.set(name, kept)
        this.hold(kept.dirs)
      } catch (err) {
        // A damaged entry is only a cache of the network: it is fetched again.
        this.init.log.error(
          'followed entry %s unreadable, dropped: %s',
          key.toString(),
          (err as Error).message,
        )
      }
    }
  }

  /**
   * Fetches `name` from the followed publishers in order; undefined when every publisher answered and
   * none has it. Bounded by `signal` and the follow timeout, whichever ends first.
   */
  async fetch(
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<{ cid: CID; bytes: Uint8Array; publisher: string } | undefined> {
    const { registry, timeoutMs } = this.init
    const bound = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])])
    const failures: { publisher: string; reason: string }[] = []
    for (const publisher of this.init.publishers) {
      try {
        const found = await this.fromPublisher(publisher, name, bound)
        if (found !== undefined) return found
        bound.throwIfAborted()
      } catch (err) {
        if (signal?.aborted) throw new AbortedError(`${registry} lookup ${name}`, signal.reason)
        if (
          err instanceof IpnsRollbackError ||
          err instanceof IpfsBlockError ||
          err instanceof IpfsRecordTooLargeError ||
          err instanceof IpfsDirectoryTooLargeError ||
          err instanceof IpnsRecordInvalidError
        )
          throw err
        const reason = bound.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message
        this.init.log('follow %s at %s: %s', name, publisher, reason)
        failures.push({ publisher, reason })
      }
    }
    if (failures.length === this.init.publishers.length && failures.length > 0)
      throw new IpfsFollowError(registry, name, failures)
    return undefined
  }

  private async fromPublisher(publisher: string, name: string, signal: AbortSignal) {
    const { helia, registry, maxRecordBytes } = this.init
    const root = await this.resolveRoot(publisher, signal)
    const segments = recordSegments(name, registry)
    const where = `${publisher}/${segments.join('/')}`
    // The publisher's blocks are untrusted: a huge directory block, or a walk through more blocks than
    // a path needs, ends the lookup before UnixFS decodes it.
    const trace = traceBlocks(helia, {
      registry,
      where,
      maxDirectoryBytes: this.init.maxDirectoryBytes,
      maxBlocks: this.init.maxWalkBlocks,
    })
    const fs = this.init.unixfs({ blockstore: trace.blockstore })
    let stat: { type: string; cid: CID; size?: bigint | number }
    try {
      stat = await fs.stat(root, { path: segments.join('/'), signal })
    } catch (err) {
      const kind = (err as Error).name
      // An abort inside the walk can surface as "not found": only a finished walk says so.
      if (!signal.aborted && (kind === 'NotFoundError' || kind === 'DoesNotExistError')) return undefined
      throw err
    }
    if (stat.type !== 'raw' && stat.type !== 'file') return undefined
    if (Number(stat.size) > maxRecordBytes)
      throw new IpfsRecordTooLargeError(registry, where, Number(stat.size), maxRecordBytes)
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of fs.cat(stat.cid, { signal })) {
      size += chunk.byteLength
      if (size > maxRecordBytes) throw new IpfsRecordTooLargeError(registry, where, size, maxRecordBytes)
      chunks.push(chunk)
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    // Records are raw blocks: their CID is the hash of the bytes, checked again here.
    if (stat.cid.code === 0x55) {
      const digest = createHash('sha256').update(bytes).digest()
      if (stat.cid.multihash.code !== 0x12 || !digest.equals(stat.cid.multihash.digest))
        throw new IpfsBlockError(registry, stat.cid.toString(), 'corrupt')
    }
    // Pinned, directories on the path too, so this node serves the record (and the path to it) to others.
    const dirs = [...trace.read.values()].filter((cid) => cid.code === DAG_PB)
    const entry: FollowedEntry = { cid: stat.cid, publisher, fetchedAt: this.init.now(), dirs }
    // Each pin and the entry touch their own datastore keys: they are written side by side.
    await Promise.all([
      ...[...dirs, stat.cid].map((cid) => pinBlock(helia, cid)),
      this.datastore.put(
        new Key(`${this.prefix}/names/${hex(name)}`),
        encoder.encode(
          JSON.stringify({ ...entry, cid: entry.cid.toString(), dirs: dirs.map((d) => d.toString()) }),
        ),
      ),
    ])
    const old = this.entries.get(name)
    this.entries.set(name, entry)
    this.hold(dirs)
    if (old !== undefined) await this.releaseOld(name, old, entry)
    return { cid: stat.cid, bytes, publisher }
  }

  private hold(dirs: readonly CID[]): void {
    for (const cid of dirs) {
      const key = cid.toString()
      this.dirRefs.set(key, (this.dirRefs.get(key) ?? 0) + 1)
    }
  }

  /**
   * Releases what a superseded copy held: its record block (unless the new copy is the same block) and
   * the directory blocks of its path no kept entry's path runs through any more (an older root's).
   */
  private async releaseOld(name: string, old: FollowedEntry, now: FollowedEntry): Promise<void> {
    if (!old.cid.equals(now.cid)) await this.init.releaseRecord(name, old.cid)
    for (const cid of old.dirs) {
      const key = cid.toString()
      const left = (this.dirRefs.get(key) ?? 1) - 1
      if (left > 0) {
        this.dirRefs.set(key, left)
        continue
      }
      this.dirRefs.delete(key)
      await unpinBlock(this.init.helia, cid).catch((err: unknown) =>
        this.init.log.error('unpin %s: %s', cid, (err as Error).message),
      )
    }
  }

  /**
   * The publisher's current root, from the network (not the local IPNS cache), never going back. A
   * root resolved less than `rootReuseMs` ago (and within its IPNS record's TTL) is used again, so
   * cold lookups of several names in a row ask the DHT once; a name published after it shows up once
   * that window has passed, as a kept record is refreshed after `followRefreshMs`.
   */
  private async resolveRoot(publisher: string, signal: AbortSignal): Promise<CID> {
    const reused = this.roots.get(publisher)
    if (reused !== undefined && this.init.now() < reused.until) return reused.root
    const { name, registry } = this.init
    const { IPNSEntry, multihashToIPNSRoutingKey } = await import('@helia/ipns')
    let last: { value: string; sequence: bigint; bytes: Uint8Array; ttlMs: number } | undefined
    try {
      for await (const result of name.resolve(ipnsKeyCid(publisher), { nocache: true, signal })) {
        last = {
          value: result.value,
          sequence: result.record.sequence ?? 0n,
          bytes: IPNSEntry.encode(result.record),
          ttlMs: result.record.ttl === undefined ? 0 : Number(result.record.ttl / 1_000_000n),
        }
      }
    } catch (err) {
      // Records were found, but none passes IPNS's checks (signature, validity, encoding).
      if (!signal.aborted && INVALID_RECORD.has((err as Error).name))
        throw new IpnsRecordInvalidError(
          registry,
          publisher,
          `failed validation: ${(err as Error).message}`,
          false,
          err,
        )
      throw err
    }
    if (last === undefined) throw new Error('IPNS name resolved to nothing')
    const seen = this.seen.get(publisher)
    if (seen !== undefined && last.sequence < seen)
      throw new IpnsRollbackError(registry, publisher, last.sequence, seen)
    if (seen === undefined || last.sequence > seen) {
      this.seen.set(publisher, last.sequence)
      await this.datastore.put(
        new Key(`${this.prefix}/seen/${hex(publisher)}`),
        encoder.encode(String(last.sequence)),
      )
    }
    // Kept in this node's DHT store too, so peers that reach only this node still resolve the name.
    // Once per publisher and sequence: a lookup does not put the same record again.
    if (this.announced.get(publisher) !== last.sequence) {
      this.announced.set(publisher, last.sequence)
      this.init.announce(multihashToIPNSRoutingKey(ipnsKeyCid(publisher).multihash), last.bytes)
    }
    const root = rootOf(registry, publisher, last.value, false)
    const reuseMs = Math.min(this.init.rootReuseMs, last.ttlMs)
    if (reuseMs > 0) this.roots.set(publisher, { root, until: this.init.now() + reuseMs })
    return root
  }
}
