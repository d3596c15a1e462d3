import { type Contract, getBytes, id as keccakText, ZeroAddress } from 'ethers'
import type { Clock } from '../../src/clock.js'
import { keyIdFromPublicKey } from '../../src/trust/signer.js'
import type { AbortOptions, TrustSource } from '../../src/trust/types.js'
import type { ChainEvents } from './_chainEvents.js'
import { rpcError } from './_connection.js'

interface Entry {
  /** did:keys of a claimed namespace; undefined when unclaimed. */
  readonly keys: readonly string[] | undefined
  /** When it was read (clock ms). */
  readonly at: number
}

export interface ChainTrustInit {
  readonly clock: Clock
  readonly maxAgeMs: number
  /** The checked connection and event follower, once the registry is ready. */
  ready(options?: AbortOptions): Promise<{ contract: Contract; rpcUrl: string; events: ChainEvents }>
  id(): string
}

/** The publisher keys of an on-chain namespace's answer as did:keys (undefined when unclaimed). */
export function keysOf(owner: string, publishers: readonly string[]): readonly string[] | undefined {
  return owner === ZeroAddress ? undefined : publishers.map((key) => keyIdFromPublicKey(getBytes(key)))
}

/**
 * The chain as a trust source: a namespace's publisher keys from the contract, cached per namespace.
 * An entry is trusted while the newer of its read and the last event sync is under `maxAgeMs` old;
 * an older one makes `publishersOf` read the new events first, which drop the entries they change.
 */
export class ChainTrust implements TrustSource {
  private readonly cache = new Map<string, Entry>()
  /** Bumped on each invalidation: a read that raced one is not cached. */
  private epoch = 0

  constructor(private readonly init: ChainTrustInit) {}

  get id(): string {
    return this.init.id()
  }

  async publishersOf(namespace: string, options: AbortOptions = {}): Promise<readonly string[] | undefined> {
    const { contract, rpcUrl, events } = await this.init.ready(options)
    const nsHash = keccakText(namespace)
    const cached = this.cache.get(nsHash)
    if (cached !== undefined) {
      if (this.fresh(cached, events)) return cached.keys
      await events.sync(options.signal)
      const kept = this.cache.get(nsHash)
      if (kept !== undefined) return kept.keys
    }
    const epoch = this.epoch
    const at = this.init.clock.now()
    let answer: [{ owner: string }, string[]]
    try {
      answer = (await contract.getFunction('namespaceOf').staticCall(nsHash)) as typeof answer
    } catch (err) {
      throw rpcError(rpcUrl, `read namespace ${namespace}`, err)
    }
    const keys = keysOf(answer[0].owner, [...answer[1]])
    this.remember(nsHash, keys, at, epoch)
    return keys
  }

  /** Caches what a read made at `at` found, unless an invalidation came in meanwhile. */
  remember(nsHash: string, keys: readonly string[] | undefined, at: number, epoch = this.epoch): void {
    if (epoch === this.epoch) this.cache.set(nsHash, { keys, at })
  }

  /** The current invalidation count, to pass back to {@link remember}. */
  get generation(): number {
    return this.epoch
  }

  invalidate(nsHash: string): void {
    this.epoch++
    this.cache.delete(nsHash)
  }

  clear(): void {
    this.epoch++
    this.cache.clear()
  }

  private fresh(entry: Entry, events: ChainEvents): boolean {
    return this.init.clock.now() - Math.max(entry.at, events.lastSyncAt) <= this.init.maxAgeMs
  }
}
