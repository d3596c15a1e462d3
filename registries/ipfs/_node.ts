import { access, constants, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Helia } from '@helia/interface'
import { type BlockFileReader, blockFileReader } from './_blockFile.js'
import { LOCK_FILE, lockDir } from './_dirLock.js'
import { IpfsStoreError } from './errors.js'

/** The registry's own node, the direct block reader over its blockstore, and its directory lock. */
export interface OwnedNode {
  readonly helia: Helia
  readonly readBlockFile: BlockFileReader
  /** Gives the directory back (after the node has stopped). */
  readonly release: () => Promise<void>
}

/**
 * The registry's own local-only Helia node: blocks in `dir/blocks`, the datastore (index, pins, the
 * IPNS key and records) in `dir/datastore`. No libp2p, so nothing leaves this machine; networked
 * mode wraps the same stores with libp2p and bitswap.
 */
export async function openOwnedNode(registry: string, dir: string): Promise<OwnedNode> {
  let release: () => Promise<void>
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.W_OK)
    const lock = await lockDir(dir)
    if (typeof lock !== 'function') {
      throw new IpfsStoreError(
        registry,
        dir,
        `in use by another registry (process ${lock.heldBy}, ${LOCK_FILE}); stop it first, or give each registry its own dir`,
      )
    }
    release = lock
  } catch (err) {
    if (err instanceof IpfsStoreError) throw err
    throw new IpfsStoreError(registry, dir, (err as Error).message, err)
  }
  const [{ createHeliaLight }, { FsBlockstore }, { NextToLast }, { FsDatastore }] = await Promise.all([
    import('helia'),
    import('blockstore-fs'),
    import('blockstore-fs/sharding'),
    import('datastore-fs'),
  ])
  try {
    const blocks = join(dir, 'blocks')
    const shardingStrategy = new NextToLast()
    const helia = createHeliaLight({
      blockstore: new FsBlockstore(blocks, { shardingStrategy }),
      datastore: new FsDatastore(join(dir, 'datastore')),
    })
    await helia.start()
    return { helia, readBlockFile: blockFileReader(blocks, shardingStrategy), release }
  } catch (err) {
    await release()
    throw new IpfsStoreError(registry, dir, (err as Error).message, err)
  }
}
