import type { Block, Interface, JsonRpcProvider, Log, Provider } from 'ethers'
import { raceSignal } from '../../src/abort.js'
import type { Clock } from '../../src/clock.js'
import type { Logger } from '../../src/logger.js'
import { normalizeRecordName } from '../../src/name.js'
import type { RegistryChange } from '../../src/registry/types.js'
import type { CursorFile, CursorState, Effect, SeenBlock } from './_chainCursor.js'
import { rpcError } from './_connection.js'
import { CHAIN_REORG_WINDOW_BLOCKS } from './defaults.js'
import { ChainRpcError } from './errors.js'

/** Largest block range asked of `eth_getLogs` at once (public RPCs cap it). */
const LOG_RANGE = 10_000

export interface ChainEventsInit {
  readonly provider: Provider
  readonly rpcUrl: string
  readonly chainId: number
  readonly address: string
  readonly iface: Interface
  readonly fromBlock: number
  /** Blocks a log must be under before it is applied (0: at the head). */
  readonly confirmations: number
  readonly clock: Clock
  readonly log: Logger
  /** Where the follower's state is kept between runs; none keeps it in memory only. */
  readonly cursor: CursorFile | undefined
  /** A namespace's owner or keys changed (by its keccak256 hash). */
  onTrustChange(nsHash: string): void
  /** A record anchor read from an event: `name` is now at `seq`. */
  onAnchored(name: string, seq: number): void
  /** A reorg removed the anchor that said `name` is at `seq`; the chain now anchors `floor`. */
  onRetracted(name: string, seq: number, floor: number): void
  /** Names whose anchor or version marks changed, or whose namespace's trust did. */
  onChange(change: RegistryChange): void
  /** The seq the chain anchors for `name` now (0 for none), read after a reorg. */
  anchoredSeq(name: string): Promise<number>
  /** Whether the namespace is claimed now, read after a reorg removed its claim. */
  claimed(nsHash: string): Promise<boolean>
}

/**
 * Follows the contract's events by polling `eth_getLogs` from the last block processed: the index of
 * anchored names (for `list`), trust cache invalidation, anchored seqs for the seq ledger, and
 * `watch`. One sync at a time, in order.
 *
 * - Confirmations: a block is processed once `confirmations` blocks are on top of it. A dev node
 *   that mines only on transactions (anvil or Hardhat automine, asked with `anvil_getAutomine`)
 *   makes no blocks on its own and nothing else mines on it, so there its head counts as confirmed:
 *   otherwise a quiet dev chain would never confirm anything.
 * - Reorgs: the hashes of recent processed blocks are kept. When the last processed block's hash
 *   changed (or it is gone), the newest kept block still on the chain is the fork point; what the
 *   logs of the blocks above it did is undone (anchored seqs retracted to what the chain anchors
 *   now, trust caches dropped, names and namespaces reported changed), and the new blocks are read.
 * - Restarts: with a cursor file, all of this is saved after each sync that moved, so a restarted
 *   registry resumes after the last block processed.
 */
export class ChainEvents {
  /** Every anchored name, with its namespace's hash. */
  readonly names = new Map<string, string>()
  /** Every claimed namespace's text by its hash (from NamespaceClaimed, so complete since `fromBlock`). */
  readonly namespaces = new Map<string, string>()
  /** The last block whose events were applied. */
  lastBlock: number
  /** When the last completed sync started (clock ms); the events up to then are applied. */
  lastSyncAt = Number.NEGATIVE_INFINITY

  /** Whether a sync has completed since the follower was made (its restored cursor is then checked). */
  get synced(): boolean {
    return this.lastSyncAt !== Number.NEGATIVE_INFINITY
  }
  /** The highest anchored seq applied per name. */
  private readonly seqs = new Map<string, number>()
  /** Recent processed blocks (with logs, and each sync's last), oldest first. */
  private recent: SeenBlock[] = []
  private tail: Promise<void> = Promise.resolve()
  /** Whether the node says it mines on transactions only; undefined until asked, false when it cannot say. */
  private automine: boolean | undefined
  /** The cursor's seqs wait for the first sync to find its last block still on the chain. */
  private restoredFloors = false

  constructor(private readonly init: ChainEventsInit) {
    this.lastBlock = init.fromBlock - 1
    const saved = init.cursor?.load(init.chainId, init.address)
    if (saved !== undefined) this.restore(saved)
  }

  /** Reads and applies the events since the last sync. */
  sync(signal?: AbortSignal): Promise<void> {
    const run = this.tail.then(() => this.syncOnce())
    this.tail = run.catch(() => undefined)
    return raceSignal(run, signal, 'reading chain events')
  }

  /** The highest block a log may be in to be applied now. */
  async confirmedHead(head: number): Promise<number> {
    const { confirmations } = this.init
    if (confirmations === 0) return head
    if (await this.automining()) return head
    return head - confirmations
  }

  private async syncOnce(): Promise<void> {
    const started = this.init.clock.now()
    const head = await this.block('latest')
    const last = this.recent.at(-1)
    if (last !== undefined && last.number === this.lastBlock) {
      const idle = head.number === last.number && head.hash === last.hash
      if (!idle) {
        const now = head.number < last.number ? undefined : await this.hashAt(last.number, head)
        if (now !== last.hash) await this.rewind(head)
      }
      this.applyRestoredFloors()
      if (idle) {
        this.lastSyncAt = started
        return
      }
    }
    this.applyRestoredFloors()
    const target = await this.confirmedHead(head.number)
    const before = this.lastBlock
    while (this.lastBlock < target) {
      const from = this.lastBlock + 1
      const toBlock = Math.min(target, this.lastBlock + LOG_RANGE)
      let logs: Log[]
      try {
        logs = await this.init.provider.getLogs({ address: this.init.address, fromBlock: from, toBlock })
      } catch (err) {
        throw rpcError(this.init.rpcUrl, `read events of blocks ${from}-${toBlock}`, err)
      }
      this.apply(logs)
      this.lastBlock = toBlock
    }
    if (this.lastBlock !== before || last?.number !== this.lastBlock) {
      if (this.lastBlock >= this.init.fromBlock) {
        const hash = await this.hashAt(this.lastBlock, head)
        if (hash !== undefined) this.see(this.lastBlock, hash)
      }
      this.prune()
      this.save()
    }
    this.lastSyncAt = started
  }

  /** Undoes what the logs of blocks no longer on the chain did, back to the newest kept block that is. */
  private async rewind(head: { number: number; hash: string }): Promise<void> {
    let fork: SeenBlock | undefined
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const seen = this.recent[i]!
      if (seen.number > head.number) continue
      if ((await this.hashAt(seen.number, head)) === seen.hash) {
        fork = seen
        break
      }
    }
    const removed = fork === undefined ? this.recent : this.recent.filter((b) => b.number > fork.number)
    const names = new Set<string>()
    const trust = new Set<string>()
    const unclaimed = new Set<string>()
    for (const block of removed)
      for (const effect of block.effects) {
        if (effect.kind === 'trust') {
          trust.add(effect.ns)
          if (effect.claimed !== undefined) unclaimed.add(effect.ns)
        } else names.add(effect.name)
      }
    if (fork === undefined) {
      // Deeper than the kept window (or another chain under the same address): every event is re-read.
      this.init.log.error(
        'a reorg deeper than %d blocks: reading every event again',
        CHAIN_REORG_WINDOW_BLOCKS,
      )
      for (const name of this.names.keys()) names.add(name)
      for (const ns of this.namespaces.keys()) {
        trust.add(ns)
        unclaimed.add(ns)
      }
    }
    this.init.log('reorg: %d blocks removed above %s', removed.length, fork?.number ?? 'the start')
    const namespaces = [...trust].flatMap((ns) => this.namespaces.get(ns) ?? [])
    for (const name of names) {
      const anchored = await this.init.anchoredSeq(name)
      const seq = this.seqs.get(name) ?? 0
      if (seq > anchored) this.init.onRetracted(name, seq, anchored)
      if (anchored === 0) {
        this.names.delete(name)
        this.seqs.delete(name)
      } else this.seqs.set(name, anchored)
    }
    for (const ns of unclaimed) if (!(await this.init.claimed(ns))) this.namespaces.delete(ns)
    for (const ns of trust) {
      this.init.onTrustChange(ns)
      for (const [name, hash] of this.names) if (hash === ns) names.add(name)
    }
    this.recent = fork === undefined ? [] : this.recent.filter((b) => b.number <= fork.number)
    this.lastBlock = fork?.number ?? this.init.fromBlock - 1
    this.save()
    this.init.onChange({
      names: [...names],
      ...(namespaces.length > 0 ? { namespaces } : {}),
      reason: 'chain reorg',
    })
  }

  /** Once the cursor's last block is found on the chain (or undone), its seqs become floors. */
  private applyRestoredFloors(): void {
    if (!this.restoredFloors) return
    this.restoredFloors = false
    for (const [name, seq] of this.seqs) this.init.onAnchored(name, seq)
  }

  private apply(logs: readonly Log[]): void {
    const changed = new Set<string>()
    const trust = new Set<string>()
    for (const log of logs) {
      // What the RPC returned is untrusted: a log of our contract that does not decode fails the
      // sync (E_CHAIN_RPC; the next sync reads it again), never an ethers error out of `apply`.
      let event: ReturnType<Interface['parseLog']>
      try {
        event = this.init.iface.parseLog(log)
        if (event !== null) for (let i = 0; i < event.args.length; i++) void event.args[i]
      } catch (err) {
        throw new ChainRpcError(
          this.init.rpcUrl,
          `read events of block ${log.blockNumber}`,
          `a log does not decode as the contract's event (${(err as Error).message.split(' (')[0]})`,
          err,
        )
      }
      if (event === null) continue
      const ns = event.args[0] as string
      let effect: Effect | undefined
      switch (event.name) {
        case 'RecordAnchored':
        case 'VersionMarked': {
          const name = event.args.name as string
          // A name the mesh could not resolve (the contract checks names; an RPC may not).
          if (
            !isRecordName(name) ||
            (event.name === 'RecordAnchored' && !Number.isSafeInteger(Number(event.args.seq)))
          ) {
            this.init.log(
              'skipped a %s log with an invalid name or seq in block %d',
              event.name,
              log.blockNumber,
            )
            continue
          }
          this.names.set(name, ns)
          changed.add(name)
          if (event.name === 'RecordAnchored') {
            const seq = Number(event.args.seq)
            if (seq > (this.seqs.get(name) ?? 0)) this.seqs.set(name, seq)
            this.init.onAnchored(name, seq)
            effect = { kind: 'anchor', name, ns, seq }
          } else effect = { kind: 'mark', name, ns }
          break
        }
        case 'NamespaceClaimed':
          this.namespaces.set(ns, event.args.namespace as string)
          trust.add(ns)
          effect = { kind: 'trust', ns, claimed: event.args.namespace as string }
          break
        case 'PublisherAdded':
        case 'PublisherRemoved':
        case 'OwnershipTransferred':
          trust.add(ns)
          effect = { kind: 'trust', ns }
          break
      }
      if (effect !== undefined) this.see(log.blockNumber, log.blockHash).effects.push(effect)
    }
    const namespaces: string[] = []
    for (const ns of trust) {
      this.init.onTrustChange(ns)
      const namespace = this.namespaces.get(ns)
      if (namespace !== undefined) namespaces.push(namespace)
      for (const [name, hash] of this.names) if (hash === ns) changed.add(name)
    }
    if (changed.size > 0 || namespaces.length > 0)
      this.init.onChange({
        names: [...changed],
        ...(namespaces.length > 0 ? { namespaces } : {}),
        reason: trust.size > 0 ? 'chain trust' : 'chain',
      })
  }

  /** The kept entry of block `number` (made when new). */
  private see(number: number, hash: string): SeenBlock {
    const last = this.recent.at(-1)
    if (last !== undefined && last.number === number) {
      if (last.hash !== hash) last.hash = hash
      return last
    }
    const entry: SeenBlock = { number, hash, effects: [] }
    this.recent.push(entry)
    return entry
  }

  /** Keeps the blocks inside the reorg window, and always the last processed one. */
  private prune(): void {
    const floor = this.lastBlock - CHAIN_REORG_WINDOW_BLOCKS
    const at = this.recent.findIndex((b) => b.number > floor)
    if (at > 0) this.recent.splice(0, at)
    else if (at === -1) this.recent.splice(0, this.recent.length - 1)
  }

  private async block(tag: number | 'latest'): Promise<{ number: number; hash: string }> {
    let block: Block | null
    try {
      block = await this.init.provider.getBlock(tag)
    } catch (err) {
      throw rpcError(this.init.rpcUrl, `read block ${tag}`, err)
    }
    if (block === null || block.hash === null) {
      if (tag === 'latest')
        throw new ChainRpcError(this.init.rpcUrl, 'read the latest block', 'the node returned no block')
      return { number: tag, hash: '' }
    }
    return { number: block.number, hash: block.hash }
  }

  private async hashAt(number: number, head: { number: number; hash: string }): Promise<string | undefined> {
    if (number === head.number) return head.hash
    const block = await this.block(number)
    return block.hash === '' ? undefined : block.hash
  }

  private async automining(): Promise<boolean> {
    if (this.automine === false) return false
    const provider = this.init.provider as Partial<JsonRpcProvider>
    if (typeof provider.send !== 'function') {
      this.automine = false
      return false
    }
    for (const method of ['anvil_getAutomine', 'hardhat_getAutomine']) {
      try {
        const on = (await provider.send(method, [])) === true
        // Asked again each time: a test or an operator may turn automine off and on.
        this.automine = on ? true : undefined
        return on
      } catch {}
    }
    this.automine = false
    return false
  }

  private restore(saved: CursorState): void {
    this.lastBlock = saved.lastBlock
    this.recent = saved.recent
    for (const [ns, text] of Object.entries(saved.namespaces)) this.namespaces.set(ns, text)
    for (const [name, { ns, seq }] of Object.entries(saved.names)) {
      this.names.set(name, ns)
      if (seq > 0) this.seqs.set(name, seq)
    }
    this.restoredFloors = true
    this.init.log('resuming after block %d', this.lastBlock)
  }

  private save(): void {
    const cursor = this.init.cursor
    if (cursor === undefined) return
    const names: CursorState['names'] = {}
    for (const [name, ns] of this.names) names[name] = { ns, seq: this.seqs.get(name) ?? 0 }
    cursor.save({
      version: 1,
      chainId: this.init.chainId,
      address: this.init.address,
      lastBlock: this.lastBlock,
      names,
      namespaces: Object.fromEntries(this.namespaces),
      recent: this.recent,
    })
  }
}

/** Whether `name` is a normalized record name (what a record's `name` must be). */
function isRecordName(name: unknown): name is string {
  if (typeof name !== 'string') return false
  try {
    return normalizeRecordName(name) === name
  } catch {
    return false
  }
}
