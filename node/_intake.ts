import type { Clock } from '../src/clock.js'
import { isMeshError } from '../src/errors/base.js'
import { RecordTooLargeError } from '../src/errors/record.js'
import { SeqRollbackError } from '../src/errors/trust.js'
import type { WatchQueue } from '../src/registry/watchQueue.js'
import {
  DEFAULT_WORKER_MIN_BATCH,
  type RecordVerifier,
  type VerifiedRecord,
} from '../src/trust/RecordVerifier.js'
import type { SeqLedger } from '../src/trust/SeqLedger.js'
import type { RecordStore, StoredRecord } from './recordStore.js'

/**
 * What became of a record a peer sent:
 * - `accepted`: verified, newer than anything held, stored;
 * - `duplicate`: the very record already held; `stale`: not newer than the one held (equal seq, other bytes);
 * - `ignored`: not the sender's fault (an unowned namespace, an expired record, a full store);
 * - `refused`: the sender's fault (forged, malformed, oversize, rolled back): it counts as an offense.
 */
export type AdmitOutcome =
  | { readonly status: 'accepted'; readonly record: StoredRecord }
  | { readonly status: 'duplicate' | 'stale'; readonly name: string }
  | { readonly status: 'ignored'; readonly reason: string; readonly name?: string }
  | { readonly status: 'refused'; readonly reason: string; readonly name?: string; readonly error: unknown }

/** Refusals that say nothing against the sender: its trust or clock may differ from ours. */
const NOT_AN_OFFENSE = new Set([
  'E_NAMESPACE_UNOWNED',
  'E_RECORD_EXPIRED',
  'E_RECORD_NOT_YET_VALID',
  'E_ABORTED',
])

export interface IntakeInit {
  store: RecordStore
  verifier: RecordVerifier
  seqLedger: SeqLedger
  clock: Clock
  maxRecordBytes: number
  changes: WatchQueue
}

/**
 * The one door records from peers come in by (gossip, lookup answers, anti-entropy pulls): size
 * before parsing, the mesh's verifier (signature, owner, schema, expiry), no rollback below the seq
 * ledger or the store, then stored and reported to the peer registry's watchers.
 */
export class Intake {
  constructor(private readonly init: IntakeInit) {}

  /**
   * One record. `remember: false` (gossip) keeps it out of the verifier's seen cache: the store keeps
   * its bytes, and a resolve of the name verifies them then. A lookup answer, resolved at once, is
   * remembered.
   */
  async admit(
    bytes: Uint8Array,
    origin: string,
    reason: string,
    options: { expectName?: string; remember?: boolean } = {},
  ): Promise<AdmitOutcome> {
    const early = this.sizeCheck(bytes, origin)
    if (early !== undefined) return early
    let verified: VerifiedRecord
    try {
      verified = await this.init.verifier.verify(bytes, { origin, ...options })
    } catch (error) {
      return failure(error)
    }
    const outcome = this.decide(verified, origin)
    if (outcome.status === 'accepted') this.notify([outcome.record.name], reason)
    return outcome
  }

  /** Many records at once (a sync batch): reported to watchers as one change, not remembered (see `admit`). */
  async admitMany(items: readonly Uint8Array[], origin: string, reason: string): Promise<AdmitOutcome[]> {
    const outcomes: (AdmitOutcome | undefined)[] = items.map((bytes) => this.sizeCheck(bytes, origin))
    const todo = items.flatMap((bytes, i) => (outcomes[i] === undefined ? [{ bytes, i }] : []))
    // In chunks under the verifier's worker threshold: each chunk's ed25519 checks run on libuv's
    // thread pool while this thread parses and checks the next records, and no batch waits on the
    // worker pool, which on a small machine competes with this thread for the same cores
    // (test/bench/peer.bench.ts measures the catch-up).
    const chunk = DEFAULT_WORKER_MIN_BATCH - 1
    const settled = (
      await Promise.all(
        Array.from({ length: Math.ceil(todo.length / chunk) }, (_, k) =>
          this.init.verifier.verifyMany(
            todo
              .slice(k * chunk, (k + 1) * chunk)
              .map(({ bytes }) => ({ bytes, options: { origin, remember: false } })),
          ),
        ),
      )
    ).flat()
    const names: string[] = []
    settled.forEach((result, k) => {
      const i = todo[k]!.i
      if (result.status === 'rejected') outcomes[i] = failure(result.reason)
      else {
        const outcome = this.decide(result.value, origin)
        if (outcome.status === 'accepted') names.push(outcome.record.name)
        outcomes[i] = outcome
      }
    })
    if (names.length > 0) this.notify(names, reason)
    return outcomes as AdmitOutcome[]
  }

  /** Tells the peer registry's watchers (and so the Resolver's cache) that names changed. */
  notify(names: readonly string[], reason: string): void {
    this.init.changes.notify({ names, reason })
  }

  private sizeCheck(bytes: Uint8Array, origin: string): AdmitOutcome | undefined {
    if (!(bytes instanceof Uint8Array)) {
      return { status: 'refused', reason: 'E_RECORD_SCHEMA', error: new TypeError('record bytes expected') }
    }
    if (bytes.byteLength > this.init.maxRecordBytes) {
      const error = new RecordTooLargeError(bytes.byteLength, this.init.maxRecordBytes, { origin })
      return { status: 'refused', reason: error.code, error }
    }
    return undefined
  }

  private decide(verified: VerifiedRecord, origin: string): AdmitOutcome {
    const { record, id } = verified
    const name = record.name
    const held = this.init.store.get(name)
    if (held !== undefined && held.id === id) return { status: 'duplicate', name }
    const highest = Math.max(held?.seq ?? -1, this.init.seqLedger.highest(name) ?? -1)
    if (record.seq < highest) {
      const error = new SeqRollbackError({ name, origin }, record.seq, highest)
      return { status: 'refused', reason: error.code, name, error }
    }
    if (held !== undefined && record.seq <= held.seq) return { status: 'stale', name }
    const stored = this.init.store.put(verified, this.init.clock.now())
    if (stored === undefined) return { status: 'ignored', reason: 'store-full', name }
    this.init.seqLedger.accept(name, record.seq)
    return { status: 'accepted', record: stored }
  }
}

function failure(error: unknown): AdmitOutcome {
  const code = isMeshError(error) ? error.code : 'E_RECORD_SCHEMA'
  if (NOT_AN_OFFENSE.has(code)) return { status: 'ignored', reason: code }
  return { status: 'refused', reason: code, error }
}
