import type { Helia } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { UnixFS, UnixFSComponents } from '@helia/unixfs'
import { Key } from 'interface-datastore'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import type { Logger } from '../../src/logger.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { pinBlock, traceBlocks } from './_dirPins.js'
import { nameOfSegments } from './_layout.js'
import type { IndexEntry, NameIndex } from './_nameIndex.js'
import { walkFiles } from './_tree.js'
import { IpfsDirectoryTooLargeError, IpnsRecordInvalidError, IpnsRollbackError } from './errors.js'

/** The registry's root and the IPNS name it is published under. */
export interface OwnRoot {
  readonly ipnsName: string
  readonly root: CID
  readonly sequence: bigint
  /** When the current sequence was published (the mesh clock, ms). */
  readonly publishedAt: number
  /** Publishes `root` under the name (the sequence rises by one) and makes it the current root. */
  publish(root: CID): Promise<bigint>
}

export interface OpenRootInit {
  registry: string
  helia: Helia
  unixfs: (components: UnixFSComponents) => UnixFS
  name: IPNS
  index: NameIndex
  keyName: string
  lifetimeMs: number
  /** How long after a publish the root is published again (below `lifetimeMs`). */
  republishMs: number
  /** The largest directory block a rebuild reads. */
  maxDirectoryBytes: number
  /** The most files a rebuild reads. */
  maxTreeEntries: number
  verifier: RecordVerifier
  log: Logger
  /** The mesh's clock (ms since the epoch). */
  now: () => number
  /** Networked mode: hands each IPNS record of the root (and the current one on open) to the routing. */
  announce?: (routingKey: Uint8Array, record: Uint8Array) => void
}

/**
 * Brings the index and the IPNS name into step when the registry opens: the index as saved when its
 * root is the one the name holds; rebuilt from the name's root when the index is missing or behind
 * (a crash between publishing the root and saving the index); refused when the name went backwards.
 */
export async function openRoot(init: OpenRootInit): Promise<OwnRoot> {
  const { helia, name, index, keyName, lifetimeMs, log } = init
  const key = await loadOrCreateKey(helia, keyName)
  const ipnsName = `/ipns/${key.publicKey.toCID().toString(base36)}`
  const state = await index.load()
  const { IPNSEntry, multihashToIPNSRoutingKey } = await import('@helia/ipns')
  const routingKey = multihashToIPNSRoutingKey(key.publicKey.toMultihash())
  await checkOwnRecord(init, ipnsName, routingKey)
  const resolved = await resolveOwn(init.registry, ipnsName, name, key.publicKey, log)
  let root: CID
  let sequence: bigint
  if (resolved !== undefined && (state === undefined || resolved.sequence > state.ipnsSequence)) {
    log('rebuilding the index from %s at sequence %s', resolved.root, resolved.sequence)
    await rebuild(init, resolved)
    root = resolved.root
    sequence = resolved.sequence
  } else if (state !== undefined) {
    if (resolved !== undefined && resolved.sequence < state.ipnsSequence)
      throw new IpnsRollbackError(init.registry, ipnsName, resolved.sequence, state.ipnsSequence)
    root = state.root
    sequence = state.ipnsSequence
  } else {
    root = await init.unixfs(helia).addDirectory()
    await pinBlock(helia, root)
    sequence = 0n
  }
  const publish = async (next: CID): Promise<bigint> => {
    // Stored locally first; the routing gets it on the side, so a publish never waits on peers.
    const result = await name.publish(keyName, next, { offline: true, lifetime: lifetimeMs })
    init.announce?.(routingKey, IPNSEntry.encode(result.record))
    own.root = next
    own.sequence = result.record.sequence ?? 0n
    own.publishedAt = init.now()
    return own.sequence
  }
  const own = { ipnsName, root, sequence, publishedAt: state?.publishedAt ?? init.now(), publish }
  // A new registry, a name whose record went missing, or one published longer ago than the republish
  // interval (the registry was stopped past it): publish the root again (the sequence rises) so the
  // name stays valid for readers.
  const stale =
    resolved !== undefined &&
    (state?.publishedAt !== undefined && state.ipnsSequence === resolved.sequence
      ? init.now() - state.publishedAt >= init.republishMs
      : !(resolved.validUntil > init.now() + lifetimeMs - init.republishMs))
  if (resolved === undefined || stale) {
    const published = await publish(root)
    await index.save(new Map(), { root, ipnsSequence: published, publishedAt: own.publishedAt })
  } else if (resolved.record !== undefined) init.announce?.(routingKey, IPNSEntry.encode(resolved.record))
  return own
}

async function loadOrCreateKey(helia: Helia, keyName: string) {
  try {
    return await helia.keychain.exportKey(keyName)
  } catch (err) {
    if ((err as Error).name !== 'NotFoundError') throw err
    return helia.keychain.generateKey(keyName)
  }
}

interface Resolved {
  readonly root: CID
  readonly sequence: bigint
  /** When the IPNS record stops being valid (ms since the epoch; NaN when unreadable). */
  readonly validUntil: number
  readonly record?: Parameters<typeof import('@helia/ipns').IPNSEntry.encode>[0]
}

/**
 * Refuses a damaged own IPNS record before IPNS reads it: its resolver deletes a record it cannot
 * decode, and the next publish would restart the sequence at 1, a rollback to every follower.
 */
async function checkOwnRecord(init: OpenRootInit, ipnsName: string, routingKey: Uint8Array): Promise<void> {
  const key = new Key(`/dht/record/${base32.baseEncode(routingKey)}`, false)
  if (!(await init.helia.datastore.has(key))) return
  const [{ Record }, { IPNSEntry }] = await Promise.all([import('@libp2p/kad-dht'), import('@helia/ipns')])
  try {
    const entry = IPNSEntry.decode(Record.deserialize(await init.helia.datastore.get(key)).value)
    if (entry.data === undefined || entry.data.byteLength === 0) throw new Error('the record holds no data')
  } catch (err) {
    throw new IpnsRecordInvalidError(
      init.registry,
      ipnsName,
      `in the datastore (${key}) cannot be decoded: ${(err as Error).message}`,
      true,
      err,
    )
  }
}

/**
 * The root the registry's own name holds in the local datastore, or undefined (none). A record that is
 * there but cannot be read (undecodable, a value that is no `/ipfs/<CID>`) is refused: publishing over
 * it would restart the sequence at 1, a rollback to every follower.
 */
async function resolveOwn(
  registry: string,
  ipnsName: string,
  name: IPNS,
  publicKey: Parameters<IPNS['resolve']>[0],
  log: Logger,
): Promise<Resolved | undefined> {
  let last: Resolved | undefined
  try {
    // Unvalidated: the resolver deletes a record that fails validation (an expired one), and the next
    // publish would then restart the sequence at 1. The record is this registry's own, in its datastore.
    for await (const result of name.resolve(publicKey, { offline: true, validate: false })) {
      const validity = Date.parse(new TextDecoder().decode(result.record.validity ?? new Uint8Array()))
      last = {
        root: rootOf(registry, ipnsName, result.value, true),
        sequence: result.record.sequence ?? 0n,
        validUntil: validity,
        record: result.record,
      }
    }
    return last
  } catch (err) {
    if (err instanceof IpnsRecordInvalidError) throw err
    if ((err as Error).name.includes('NotFound')) return undefined
    log('own IPNS name unresolved: %s', (err as Error).message)
    throw new IpnsRecordInvalidError(
      registry,
      ipnsName,
      `cannot be read: ${(err as Error).message}`,
      true,
      err,
    )
  }
}

/** The root CID an IPNS record's value names (`/ipfs/<CID>`), else {@link IpnsRecordInvalidError}. */
export function rootOf(registry: string, ipnsName: string, value: string, own: boolean): CID {
  const match = /^\/ipfs\/([^/]+)\/?$/.exec(value)
  if (match !== null) {
    try {
      return CID.parse(match[1]!)
    } catch {
      // reported below
    }
  }
  throw new IpnsRecordInvalidError(
    registry,
    ipnsName,
    `names ${JSON.stringify(value.slice(0, 120))}, not a root /ipfs/<CID>`,
    own,
  )
}

/** Rebuilds the index from the files under `root`, verifying each record; refused files are logged. */
async function rebuild(init: OpenRootInit, resolved: { root: CID; sequence: bigint }): Promise<void> {
  const { helia, verifier, registry, log } = init
  // The walk reads every directory block of the tree: each is pinned, as publishes pin theirs.
  const where = `rebuild of ${resolved.root}`
  const trace = traceBlocks(helia, { registry, where, maxDirectoryBytes: init.maxDirectoryBytes })
  const fs = init.unixfs({ blockstore: trace.blockstore })
  const entries = new Map<string, IndexEntry>()
  let files = 0
  for await (const file of walkFiles(fs, resolved.root)) {
    if (++files > init.maxTreeEntries)
      throw new IpfsDirectoryTooLargeError(registry, where, 'entries', files, init.maxTreeEntries)
    const path = file.segments.join('/')
    let recordName: string | undefined
    try {
      recordName = nameOfSegments(file.segments, registry)
    } catch (err) {
      // A link named `..`, `a/b` or `%2F` is no path a publish makes: never indexed, never served.
      log('rebuild: %s', (err as Error).message)
      continue
    }
    if (recordName === undefined) {
      log('rebuild: %s holds no record, skipped', path)
      continue
    }
    const chunks: Uint8Array[] = []
    for await (const chunk of fs.cat(file.cid, { offline: true })) chunks.push(chunk)
    try {
      const { record, id } = await verifier.verify(Buffer.concat(chunks), {
        origin: `${registry} rebuild ${path}`,
        expectName: recordName,
        allowExpired: true,
        unowned: 'integrity',
      })
      entries.set(recordName, { cid: file.cid, seq: record.seq, id })
      await pinBlock(helia, file.cid)
    } catch (err) {
      log('rebuild: %s refused: %s', path, (err as Error).message)
    }
  }
  for (const cid of trace.read.values()) if (cid.code === 0x70) await pinBlock(helia, cid)
  await init.index.replace(entries, { root: resolved.root, ipnsSequence: resolved.sequence })
}
