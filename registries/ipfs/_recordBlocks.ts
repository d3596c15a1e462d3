import { createHash } from 'node:crypto'
import type { Helia } from '@helia/interface'
import type { UnixFS } from '@helia/unixfs'
import { LRUCache } from 'lru-cache'
import type { CID } from 'multiformats/cid'
import type { BlockFileReader } from './_blockFile.js'
import { IpfsBlockError } from './errors.js'

/**
 * The registry's record blocks: adding canonical bytes as one pinned raw block, and reading a block
 * back checked against its CID. Checked bytes are kept in a small LRU cache by CID (bounded in bytes):
 * a CID names its bytes for ever, so a kept copy is never stale, and a warm lookup is a map read
 * instead of a file read and a hash. A block damaged on disk is still refused the first time this
 * process reads it.
 *
 * The cache is keyed by the CID object the caller holds (the index's, the follower's), not by its
 * text: multiformats memoizes each CID's text in a map as large as the number of CIDs alive, so a
 * text key costs more the larger the registry. Another object for the same block is read, checked
 * and kept under its own key (never wrong: the bytes are the same); content-store reads, which parse
 * a new object each time, go through {@link intern} so their repeats hit.
 */
export class RecordBlocks {
  private readonly cache: LRUCache<CID, Uint8Array> | undefined
  /** The CID objects content-store reads were made with, by text. */
  private readonly interned = new LRUCache<string, CID>({ max: 4096 })

  constructor(
    private readonly registry: string,
    private readonly helia: Helia,
    private readonly fs: UnixFS,
    /** The own node's direct block reads; undefined on a given node. */
    private readonly readBlockFile: BlockFileReader | undefined,
    cacheBytes: number,
  ) {
    this.cache =
      cacheBytes > 0
        ? new LRUCache({ maxSize: cacheBytes, sizeCalculation: (bytes) => Math.max(1, bytes.byteLength) })
        : undefined
  }

  /** Adds canonical bytes as one pinned raw block: its CID has the record id's multihash. */
  async add(bytes: Uint8Array): Promise<CID> {
    const cid = await this.fs.addBytes(bytes, {
      rawLeaves: true,
      reduceSingleLeafToSelf: true,
      cidVersion: 1,
    })
    if (!(await this.helia.pins.isPinned(cid)))
      for await (const _ of this.helia.pins.add(cid, { depth: 0 })) void _
    return cid
  }

  /** The block's bytes, checked against its CID (a damaged blockstore never serves other bytes). */
  async read(cid: CID, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const kept = this.cache?.get(cid)
    if (kept !== undefined) return kept
    const bytes = this.checked(cid, await this.readStored(cid, signal))
    this.cache?.set(cid, bytes)
    return bytes
  }

  /** The object earlier reads of the same CID were made with, so a repeated read by text hits the cache. */
  intern(cid: CID): CID {
    const key = cid.toString()
    const known = this.interned.get(key)
    if (known !== undefined) return known
    this.interned.set(key, cid)
    return cid
  }

  /** Forgets a block's kept bytes (its pin was released: it may be collected). */
  forget(cid: CID): void {
    this.cache?.delete(cid)
    const interned = this.interned.get(cid.toString())
    if (interned !== undefined) this.cache?.delete(interned)
  }

  private async readStored(cid: CID, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const direct = await this.readBlockFile?.(cid).catch(() => undefined)
    if (direct !== undefined) return direct
    const chunks: Uint8Array[] = []
    try {
      for await (const chunk of this.helia.blockstore.get(cid, {
        offline: true,
        ...(signal ? { signal } : {}),
      }))
        chunks.push(chunk)
    } catch (err) {
      throw new IpfsBlockError(this.registry, cid.toString(), 'missing', err)
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  }

  /** `bytes` if they hash to `cid`'s sha-256 multihash; a damaged block is never served. */
  private checked(cid: CID, bytes: Uint8Array): Uint8Array {
    const digest = createHash('sha256').update(bytes).digest()
    if (cid.multihash.code !== 0x12 || !digest.equals(cid.multihash.digest))
      throw new IpfsBlockError(this.registry, cid.toString(), 'corrupt')
    return bytes
  }
}
