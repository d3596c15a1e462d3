import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ShardingStrategy } from 'blockstore-fs/sharding'
import type { CID } from 'multiformats/cid'

/** Reads one block's bytes straight from the file `blockstore-fs` keeps it in; undefined if absent. */
export type BlockFileReader = (cid: CID) => Promise<Uint8Array | undefined>

/**
 * The registry's warm read path on its own node: one `readFile` of the block's file, where
 * `FsBlockstore.get` opens a read stream for every block (several times the cost for a record of a
 * few kB). It uses the blockstore's own sharding strategy object, so the path is the one the
 * blockstore wrote; the caller checks the bytes against the CID either way.
 */
export function blockFileReader(blocksDir: string, strategy: ShardingStrategy): BlockFileReader {
  return async (cid) => {
    const { dir, file } = strategy.encode(cid)
    try {
      return await readFile(join(blocksDir, dir, file))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }
}
