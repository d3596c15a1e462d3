import { createHash } from 'node:crypto'
import type { Helia } from '@helia/interface'
import type { UnixFS } from '@helia/unixfs'
import { LRUCache } from 'lru-cache'
import { CID } from 'multiformats/cid'
import type { BlockFileReader } from './_blockFile.js'
import { IpfsBlockError } from './errors.js'

/**
 * The registry's record blocks: adding canonical bytes as one pinned raw block, and reading a block
 * back checked against its CID. Checked bytes are kept in a small LRU cache by CID (bounded in bytes):
 * a CID names its bytes for ever, so a kept copy is never stale, and a warm lookup is a map read
 * instead of a file read and a hash. A block damaged on disk is still refused the first time this
 * process reads it.
 */
export class RecordBlocks {
  private readonly cache: LRUCache<string, Uint8Array> | undefined

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

  /**
   * The block's bytes, checked against its CID (a damaged blockstore never serves other bytes). The
   * CID may come as its text (the name index holds it so): a kept block is then served without
   * making a CID.
   */
  async read(cid: CID | string, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const key = typeof cid === 'string' ? cid : cid.toString()
    const kept = this.cache?.get(key)
    if (kept !== undefined) return kept
    const parsed = typeof cid === 'string' ? CID.parse(cid) : cid
    const bytes = this.checked(parsed, await this.readStored(parsed, signal))
    this.cache?.set(key, bytes)
    return bytes
  }

  /** Forgets a block's kept bytes (its pin was released: it may be collected). */
  forget(cid: CID): void {
    this.cache?.delete(cid.toString())
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
