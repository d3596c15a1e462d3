import type { Helia } from '@helia/interface'
import { Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import type { Logger } from '../../src/logger.js'
import { pinBlock } from './_dirPins.js'

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex')

/**
 * The pins of record blocks (raw, depth 0). A record block is held while something refers to it: the
 * registry's own index, a followed name's kept copy, or a content-store put (a chain anchor's CID,
 * kept in the datastore so a restart keeps it). Releasing a superseded block unpins it only when
 * none of them still does, so `helia.gc()` removes exactly the versions nothing serves.
 */
export class RecordPins {
  private readonly prefix: string

  constructor(
    private readonly helia: Helia,
    registry: string,
    private readonly log: Logger,
    /** Told of each block whose pin was removed (so a cache forgets it). */
    private readonly onRelease: (cid: CID) => void,
  ) {
    this.prefix = `/fmesh-ipfs/${hex(registry)}/content`
  }

  private contentKey(cid: CID): Key {
    return new Key(`${this.prefix}/${cid.toString()}`)
  }

  /** Pins `cid` for a content-store put: it stays pinned whatever the index does. */
  async holdContent(cid: CID): Promise<void> {
    await pinBlock(this.helia, cid)
    const key = this.contentKey(cid)
    if (!(await this.helia.datastore.has(key))) await this.helia.datastore.put(key, new Uint8Array())
  }

  /**
   * Unpins a record block its holder no longer refers to, unless `inUse` (another holder: the index,
   * a followed name) or a content-store put still holds it. A failure is logged, never thrown: a pin
   * left behind costs disk, not correctness.
   */
  async release(cid: CID, inUse: boolean): Promise<void> {
    if (inUse) return
    try {
      if (await this.helia.datastore.has(this.contentKey(cid))) return
      if (await this.helia.pins.isPinned(cid)) for await (const _ of this.helia.pins.rm(cid)) void _
      this.onRelease(cid)
    } catch (err) {
      this.log.error('unpin %s: %s', cid, (err as Error).message)
    }
  }
}
