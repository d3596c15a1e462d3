import type { Helia } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { UnixFS, UnixFSComponents } from '@helia/unixfs'
import type { Libp2p } from '@libp2p/interface'
import { ConfigError } from '../../src/errors/registry.js'
import type { Logger } from '../../src/logger.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import type { IpfsConfig } from './_checkInit.js'
import { Follower } from './_follow.js'
import { type OwnRoot, openRoot } from './_ipnsRoot.js'
import { cachedKeychain } from './_keychain.js'
import { NameIndex } from './_nameIndex.js'
import { openOwnedNode } from './_node.js'
import { RecordBlocks } from './_recordBlocks.js'
import { RecordPins } from './_recordPins.js'

/** What an open registry works with. */
export interface Opened {
  readonly helia: Helia
  /** Gives the own node's directory back; undefined on a given node. */
  readonly release: (() => Promise<void>) | undefined
  readonly fs: UnixFS
  /** Makes a UnixFS over another blockstore (a traced one). */
  readonly unixfs: (components: UnixFSComponents) => UnixFS
  readonly index: NameIndex
  readonly own: OwnRoot
  /** Record blocks: added pinned, read checked (and cached). */
  readonly blocks: RecordBlocks
  readonly pins: RecordPins
  /** The libp2p node in networked mode (own or given), else undefined. */
  readonly libp2p: Libp2p | undefined
  /** Followed publishers' lookups; undefined when none are followed. */
  readonly follower: Follower | undefined
}

export interface OpenInit {
  cfg: IpfsConfig
  verifier: RecordVerifier
  log: Logger
  now: () => number
  /** Hands an IPNS record to the routing on the side. */
  announce: (helia: Helia, routingKey: Uint8Array, record: Uint8Array) => void
}

/**
 * Opens the registry: its own node in `dir` (or the given one), IPNS over the node's stores, the
 * name index and the root brought into step with the IPNS name, the record blocks and pins, and the
 * follower of other publishers. A failure stops an own node and gives its directory back.
 */
export async function openRegistry({ cfg, verifier, log, now, announce }: OpenInit): Promise<Opened> {
  if (cfg.helia !== undefined && cfg.helia.status !== 'started')
    throw new ConfigError(
      'ipfsRegistry.helia',
      `must be a started node (it is ${cfg.helia.status}): await helia.start() first`,
    )
  const owned = cfg.helia === undefined ? await openOwnedNode(cfg.id, cfg.dir!, cfg.network) : undefined
  const helia = cfg.helia ?? owned!.helia
  const libp2p = owned?.libp2p ?? givenLibp2p(cfg.helia)
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
    const blocks = new RecordBlocks(cfg.id, helia, fs, owned?.readBlockFile, cfg.recordCacheBytes)
    const pins = new RecordPins(helia, cfg.id, log, (cid) => blocks.forget(cid))
    const index = new NameIndex(helia.datastore, cfg.id)
    const toRouting =
      libp2p === undefined ? undefined : (key: Uint8Array, record: Uint8Array) => announce(helia, key, record)
    const own = await openRoot({
      registry: cfg.id,
      helia,
      unixfs,
      name,
      index,
      keyName: cfg.ipnsKey,
      lifetimeMs: cfg.ipnsLifetimeMs,
      republishMs: cfg.ipnsRepublishMs,
      maxDirectoryBytes: cfg.maxDirectoryBytes,
      maxTreeEntries: cfg.maxTreeEntries,
      verifier,
      log,
      now,
      ...(toRouting === undefined ? {} : { announce: toRouting }),
    })
    let follower: Follower | undefined
    if (cfg.follow.length > 0) {
      follower = new Follower({
        registry: cfg.id,
        helia,
        name,
        unixfs,
        publishers: cfg.follow,
        maxRecordBytes: cfg.maxRecordBytes,
        rootReuseMs: cfg.followRefreshMs,
        maxDirectoryBytes: cfg.maxDirectoryBytes,
        maxWalkBlocks: cfg.maxWalkBlocks,
        timeoutMs: cfg.followTimeoutMs,
        log,
        now,
        announce: (key, record) => announce(helia, key, record),
        // A followed name's superseded block stays pinned while the own index serves it.
        releaseRecord: (recordName, cid) =>
          pins.release(cid, index.entries.get(recordName)?.cid.equals(cid) === true),
      })
      await follower.load()
    }
    return { helia, release: owned?.release, fs, unixfs, index, own, blocks, pins, libp2p, follower }
  } catch (err) {
    if (owned !== undefined) {
      await helia.stop().catch(() => undefined)
      await owned.release()
    }
    throw err
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
