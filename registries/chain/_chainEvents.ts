import type { Interface, Log, Provider } from 'ethers'
import { raceSignal } from '../../src/abort.js'
import type { Clock } from '../../src/clock.js'
import type { RegistryChange } from '../../src/registry/types.js'
import { rpcError } from './_connection.js'

/** Largest block range asked of `eth_getLogs` at once (public RPCs cap it). */
const LOG_RANGE = 10_000

export interface ChainEventsInit {
  readonly provider: Provider
  readonly rpcUrl: string
  readonly address: string
  readonly iface: Interface
  readonly fromBlock: number
  readonly clock: Clock
  /** A namespace's owner or keys changed (by its keccak256 hash). */
  onTrustChange(nsHash: string): void
  /** A record anchor read from an event: `name` is now at `seq`. */
  onAnchored(name: string, seq: number): void
  /** Names whose anchor or version marks changed, or whose namespace's trust did. */
  onChange(change: RegistryChange): void
}

/**
 * Follows the contract's events by polling `eth_getLogs` from the last block read: the index of
 * anchored names (for `list`), trust cache invalidation, and `watch`. One sync at a time, in order.
 */
export class ChainEvents {
  /** Every anchored name, with its namespace's hash. */
  readonly names = new Map<string, string>()
  /** Every claimed namespace's text by its hash (from NamespaceClaimed, so complete since `fromBlock`). */
  readonly namespaces = new Map<string, string>()
  /** The last block whose events were read. */
  lastBlock: number
  /** When the last completed sync started (clock ms); the events up to then are applied. */
  lastSyncAt = Number.NEGATIVE_INFINITY
  private tail: Promise<void> = Promise.resolve()

  constructor(private readonly init: ChainEventsInit) {
    this.lastBlock = init.fromBlock - 1
  }

  /** Reads and applies the events since the last sync. */
  sync(signal?: AbortSignal): Promise<void> {
    const run = this.tail.then(() => this.syncOnce())
    this.tail = run.catch(() => undefined)
    return raceSignal(run, signal, 'reading chain events')
  }

  private async syncOnce(): Promise<void> {
    const { provider, rpcUrl, address } = this.init
    const started = this.init.clock.now()
    let head: number
    try {
      head = await provider.getBlockNumber()
    } catch (err) {
      throw rpcError(rpcUrl, 'read the block number', err)
    }
    while (this.lastBlock < head) {
      const toBlock = Math.min(head, this.lastBlock + LOG_RANGE)
      let logs: Log[]
      try {
        logs = await provider.getLogs({ address, fromBlock: this.lastBlock + 1, toBlock })
      } catch (err) {
        throw rpcError(rpcUrl, `read events of blocks ${this.lastBlock + 1}-${toBlock}`, err)
      }
      this.apply(logs)
      this.lastBlock = toBlock
    }
    this.lastSyncAt = started
  }

  private apply(logs: readonly Log[]): void {
    const changed = new Set<string>()
    const trust = new Set<string>()
    for (const log of logs) {
      const event = this.init.iface.parseLog(log)
      if (event === null) continue
      const nsHash = event.args[0] as string
      switch (event.name) {
        case 'RecordAnchored':
        case 'VersionMarked': {
          const name = event.args.name as string
          this.names.set(name, nsHash)
          changed.add(name)
          if (event.name === 'RecordAnchored') this.init.onAnchored(name, Number(event.args.seq))
          break
        }
        case 'NamespaceClaimed':
          this.namespaces.set(nsHash, event.args.namespace as string)
          trust.add(nsHash)
          break
        case 'PublisherAdded':
        case 'PublisherRemoved':
        case 'OwnershipTransferred':
          trust.add(nsHash)
          break
      }
    }
    const namespaces: string[] = []
    for (const nsHash of trust) {
      this.init.onTrustChange(nsHash)
      const namespace = this.namespaces.get(nsHash)
      if (namespace !== undefined) namespaces.push(namespace)
      for (const [name, hash] of this.names) if (hash === nsHash) changed.add(name)
    }
    if (changed.size > 0 || namespaces.length > 0)
      this.init.onChange({
        names: [...changed],
        ...(namespaces.length > 0 ? { namespaces } : {}),
        reason: trust.size > 0 ? 'chain trust' : 'chain',
      })
  }
}
