import { access, constants, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Helia } from '@helia/interface'
import { type BlockFileReader, blockFileReader } from './_blockFile.js'
import { IpfsStoreError } from './errors.js'

/**
 * The registry's own local-only Helia node: blocks in `dir/blocks`, the datastore (index, pins, the
 * IPNS key and records) in `dir/datastore`. No libp2p, so nothing leaves this machine; networked
 * mode wraps the same stores with libp2p and bitswap.
 */
export async function openOwnedNode(
  registry: string,
  dir: string,
): Promise<{ helia: Helia; readBlockFile: BlockFileReader }> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.W_OK)
  } catch (err) {
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
    return { helia, readBlockFile: blockFileReader(blocks, shardingStrategy) }
  } catch (err) {
    throw new IpfsStoreError(registry, dir, (err as Error).message, err)
  }
}
