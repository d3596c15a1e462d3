import { join } from 'node:path'
import { ZeroAddress } from 'ethers'
import type { RegistryComponents } from '../../src/components.js'
import type { Logger } from '../../src/logger.js'
import type { RegistryChange } from '../../src/registry/types.js'
import { CursorFile } from './_chainCursor.js'
import { ChainEvents } from './_chainEvents.js'
import type { ChainConfig } from './_checkChainInit.js'
import { type Connection, rpcError } from './_connection.js'
import { lookupCall } from './_lookupCall.js'

export interface FollowerInit {
  readonly registry: string
  readonly address: string
  readonly cfg: ChainConfig
  readonly components: RegistryComponents
  readonly log: Logger
  onTrustChange(nsHash: string): void
  onChange(change: RegistryChange): void
}

/** Where a registry's cursor is kept unless `cursor` says: `<dataDir>/chain/<id>-<chainId>-<address>.json`. */
function cursorPath(init: FollowerInit, chainId: number): string {
  const id = init.registry.replace(/[^\w.-]/g, '_')
  return join(init.components.dataDir, 'chain', `${id}-${chainId}-${init.address.toLowerCase()}.json`)
}

/**
 * The event follower of a chain registry over `conn`: anchored seqs into (and, after a reorg, out of)
 * the mesh's seq ledger, resuming from the registry's cursor file.
 */
export function eventFollower(conn: Connection, init: FollowerInit): ChainEvents {
  const { cfg, components } = init
  const cursor = cfg.init.cursor
  const ledger = components.seqLedger
  return new ChainEvents({
    provider: conn.provider,
    rpcUrl: conn.rpcUrl,
    chainId: conn.chainId,
    address: init.address,
    iface: conn.contract.interface,
    fromBlock: cfg.fromBlock,
    confirmations: cfg.confirmations,
    clock: components.clock,
    log: init.log,
    cursor: cursor === false ? undefined : new CursorFile(cursor ?? cursorPath(init, conn.chainId)),
    onTrustChange: init.onTrustChange,
    onAnchored: (name, seq) => ledger.accept(name, seq),
    onRetracted: (name, seq, floor) => ledger.retract?.(name, seq, floor),
    onChange: init.onChange,
    anchoredSeq: async (name) => Number((await lookupCall(conn, init.registry, name)).anchor.seq),
    claimed: async (nsHash) => {
      let owner: string
      try {
        owner = await conn.contract.getFunction('ownerOf').staticCall(nsHash)
      } catch (err) {
        throw rpcError(conn.rpcUrl, `read the owner of ${nsHash}`, err)
      }
      return owner !== ZeroAddress
    },
  })
}
