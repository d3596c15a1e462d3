import { access, constants, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Helia } from '@helia/interface'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { type BlockFileReader, blockFileReader } from './_blockFile.js'
import { LOCK_FILE, lockDir } from './_dirLock.js'
import { libp2pOptions, type NetworkConfig } from './_libp2pOptions.js'
import { IpfsStoreError } from './errors.js'

/** The registry's own node, the direct block reader over its blockstore, and its directory lock. */
export interface OwnedNode {
  readonly helia: Helia
  readonly readBlockFile: BlockFileReader
  /** The node's libp2p (networked mode only). */
  readonly libp2p: Libp2p | undefined
  /** Gives the directory back (after the node has stopped). */
  readonly release: () => Promise<void>
}

/**
 * The registry's own Helia node: blocks in `dir/blocks`, the datastore (index, pins, the IPNS key and
 * records, the libp2p key) in `dir/datastore`. Without `network` it has no libp2p, so nothing leaves
 * this machine; with it the same stores sit under libp2p, bitswap and the private kad-dht, and no
 * public gateway, delegated router or HTTP block broker is configured.
 */
export async function openOwnedNode(
  registry: string,
  dir: string,
  network?: NetworkConfig,
): Promise<OwnedNode> {
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
    const stores = {
      blockstore: new FsBlockstore(blocks, { shardingStrategy }),
      datastore: new FsDatastore(join(dir, 'datastore')),
    }
    let libp2p: Libp2p | undefined
    let helia: Helia
    if (network === undefined) {
      helia = createHeliaLight(stores)
      await helia.start()
    } else {
      const [{ withLibp2pLight }, { withBitswap }] = await Promise.all([
        import('@helia/libp2p'),
        import('@helia/bitswap'),
      ])
      let keychain: Helia['keychain'] | undefined
      const light = createHeliaLight(stores)
      // Helia's `createHelia` without its HTTP parts (public delegated routers, recursive gateways,
      // the trustless-gateway broker): libp2p as configured here, and bitswap over it.
      const networked = withBitswap(
        withLibp2pLight(light, (await libp2pOptions(network, () => keychain as never)) as never),
        // A lookup fetches a handful of blocks one after another along a path: no batching delay.
        { sendWantlistDebounce: 0, sendBlocksDebounce: 0 },
      )
      helia = networked
      keychain = helia.keychain
      await helia.start()
      libp2p = networked.libp2p as Libp2p
      await dialAll(libp2p, network.bootstrap, registry)
    }
    return { helia, readBlockFile: blockFileReader(blocks, shardingStrategy), libp2p, release }
  } catch (err) {
    await release()
    throw new IpfsStoreError(registry, dir, (err as Error).message, err)
  }
}

/** Dials each bootstrap address; one that cannot be reached is logged by libp2p, never fatal. */
async function dialAll(libp2p: Libp2p, addrs: readonly string[], registry: string): Promise<void> {
  if (addrs.length === 0) return
  const { multiaddr } = await import('@multiformats/multiaddr')
  const log = libp2p.logger.forComponent(`registry:ipfs:${registry}`)
  await Promise.all(
    addrs.map(async (addr) => {
      try {
        const connection = await libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) })
        await inRoutingTable(libp2p, connection.remotePeer, AbortSignal.timeout(5000))
      } catch (err) {
        log.error('bootstrap %s: %e', addr, err)
      }
    }),
  )
}

interface RoutingTable {
  find(peer: PeerId): Promise<unknown>
  addEventListener(type: 'peer:add', listener: () => void): void
  removeEventListener(type: 'peer:add', listener: () => void): void
}

/**
 * Resolves once the DHT holds `peer` in its routing table (after identify), so the first lookup
 * after start already routes through the bootstrap peers.
 */
async function inRoutingTable(libp2p: Libp2p, peer: PeerId, signal: AbortSignal): Promise<void> {
  const table = (libp2p.services as { dht?: { routingTable?: RoutingTable } }).dht?.routingTable
  if (table === undefined) return
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      table.find(peer).then((found) => {
        if (found !== undefined) done()
      }, reject)
    }
    const done = () => {
      table.removeEventListener('peer:add', check)
      signal.removeEventListener('abort', onAbort)
      resolve()
    }
    const onAbort = () => {
      table.removeEventListener('peer:add', check)
      reject(new Error('not in the DHT routing table in time'))
    }
    table.addEventListener('peer:add', check)
    signal.addEventListener('abort', onAbort, { once: true })
    check()
  })
}
