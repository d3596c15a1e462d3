import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Clock } from '../src/clock.js'
import { isMeshError } from '../src/errors/base.js'
import type { Logger } from '../src/logger.js'
import type { SeqLedger } from '../src/trust/SeqLedger.js'
import type { AdmitOutcome, Intake } from './_intake.js'
import type { PeerGuard } from './_peerGuard.js'
import { type RateLimiter, rateLimiter } from './_rateLimiter.js'
import {
  decodeAnswer,
  decodeMessage,
  encodeJson,
  errorFrame,
  finish,
  frames,
  readFrame,
  streamDeadline,
} from './_wire.js'
import { PeerBusyError, PeerProtocolError, PeerRateLimitedError, PeerRequestInvalidError } from './errors.js'
import { type PeerLimits, SYNC_PROTOCOL } from './limits.js'
import { type RecordStore, SYNC_BUCKETS } from './recordStore.js'

export interface SyncServiceInit {
  libp2p: Libp2p
  store: RecordStore
  intake: Intake
  guard: PeerGuard
  limits: PeerLimits
  clock: Clock
  seqLedger: SeqLedger
  log: Logger
}

/** What one anti-entropy round with a peer did. */
export interface SyncReport {
  readonly peer: string
  /** Names the peer holds at a higher seq than this node did. */
  readonly wanted: number
  readonly accepted: number
  readonly refused: number
}

/**
 * `/fmesh/sync/1.0.0`, pulled by the side that opens the stream, in rounds on one stream:
 * 1. `{ v: 1, op: 'summary', digests, from }`: the asker's digest of each of the 256 buckets; the
 *    server answers `{ v: 1, ok: true, entries: [[name, seq]...], next }` with its entries in the
 *    buckets that differ, from bucket `from`, at most `maxSummaryEntries` (then `next` is where the
 *    following round starts, else null);
 * 2. `{ v: 1, op: 'pull', names }` (1 to `syncBatch`): a header `{ v: 1, ok: true, records: n, consumed: k }`
 *    and n frames of signed record bytes of the first k names (at most `maxMessageBytes` of them, so
 *    the asker goes on from name k), which the asker verifies like any record;
 * 3. `{ v: 1, op: 'done' }` ends the exchange.
 * Equal buckets cost nothing but their digest, so two converged nodes exchange about 6 KB.
 */
export class SyncService {
  private readonly limiter: RateLimiter
  private pending = 0
  private readonly running = new Map<string, Promise<SyncReport>>()

  constructor(private readonly init: SyncServiceInit) {
    this.limiter = rateLimiter({ perSecond: init.limits.syncsPerSecond, burst: 4, clock: init.clock })
  }

  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const { limits, guard } = this.init
    if (guard.isBanned(peer)) {
      stream.abort(new Error('banned'))
      return
    }
    const lp = frames(stream, limits.maxMessageBytes)
    let deadline = streamDeadline(stream, limits.streamTimeoutMs)
    try {
      if (!this.limiter.take(peer)) {
        guard.offense(connection.remotePeer, 'sync-flood')
        throw new PeerRateLimitedError('sync', peer, limits.syncsPerSecond)
      }
      if (this.pending >= limits.maxPendingRequests)
        throw new PeerBusyError('sync', limits.maxPendingRequests)
      this.pending++
      try {
        // Every pull consumes at least one name, every summary at least one bucket.
        const maxRounds = limits.maxRecords + SYNC_BUCKETS + 4
        for (let round = 0; round < maxRounds; round++) {
          const bytes = await readFrame(
            lp,
            { protocol: 'sync', peer, limit: limits.maxMessageBytes },
            deadline.signal,
          )
          const message = decodeMessage(bytes, 'sync', peer)
          if (message.op === 'done') break
          if (message.op === 'summary')
            await lp.write(encodeJson(this.summaryAnswer(message, peer)), { signal: deadline.signal })
          else if (message.op === 'pull') {
            const { records, consumed } = this.pullAnswer(message, peer)
            await lp.writeV([encodeJson({ v: 1, ok: true, records: records.length, consumed }), ...records], {
              signal: deadline.signal,
            })
          } else throw new PeerRequestInvalidError('sync', '"op" must be summary, pull or done', peer)
          // Each round gets the whole stream timeout: a large catch-up is many short rounds.
          deadline.clear()
          deadline = streamDeadline(stream, limits.streamTimeoutMs)
        }
      } finally {
        this.pending--
      }
      await finish(stream, deadline.signal)
    } catch (err) {
      if (isMeshError(err, 'E_PEER_MESSAGE_TOO_LARGE'))
        guard.offense(connection.remotePeer, 'oversize-request')
      await lp
        .write(errorFrame(err), { signal: deadline.signal })
        .then(() => finish(stream, deadline.signal))
        .catch(() => stream.abort(err as Error))
    } finally {
      deadline.clear()
    }
  }

  /** Pulls from `peer` what it holds newer; one exchange per peer at a time (a second call joins it). */
  sync(peer: PeerId, signal?: AbortSignal): Promise<SyncReport> {
    const key = peer.toString()
    let running = this.running.get(key)
    if (running === undefined) {
      running = this.pullFrom(peer, signal).finally(() => this.running.delete(key))
      this.running.set(key, running)
    }
    return running
  }

  private summaryAnswer(message: Record<string, unknown>, peer: string): Record<string, unknown> {
    const { digests, from } = message
    if (
      !Array.isArray(digests) ||
      digests.length !== SYNC_BUCKETS ||
      !digests.every((d) => typeof d === 'string')
    )
      throw new PeerRequestInvalidError('sync', `"digests" must be ${SYNC_BUCKETS} strings`, peer)
    const start = from === undefined ? 0 : from
    if (typeof start !== 'number' || !Number.isInteger(start) || start < 0 || start >= SYNC_BUCKETS)
      throw new PeerRequestInvalidError('sync', `"from" must be a bucket from 0 to ${SYNC_BUCKETS - 1}`, peer)
    const mine = this.init.store.summary()
    const now = this.init.clock.now()
    const entries: [string, number][] = []
    for (let b = start; b < SYNC_BUCKETS; b++) {
      if (mine[b] === '' || mine[b] === digests[b]) continue
      for (const entry of this.init.store.entries(b)) {
        if (this.init.store.get(entry[0])!.expiresAt > now) entries.push(entry)
      }
      if (entries.length >= this.init.limits.maxSummaryEntries && b + 1 < SYNC_BUCKETS)
        return { v: 1, ok: true, entries, next: b + 1 }
    }
    return { v: 1, ok: true, entries, next: null }
  }

  /**
   * The records of the names asked for, in order, until their bytes reach `maxMessageBytes` (at
   * least one name is always consumed): `consumed` tells the asker where to go on from.
   */
  private pullAnswer(
    message: Record<string, unknown>,
    peer: string,
  ): { records: Uint8Array[]; consumed: number } {
    const { names } = message
    const max = this.init.limits.syncBatch
    if (
      !Array.isArray(names) ||
      names.length === 0 ||
      names.length > max ||
      !names.every((n) => typeof n === 'string')
    )
      throw new PeerRequestInvalidError('sync', `"names" must be 1 to ${max} strings`, peer)
    const now = this.init.clock.now()
    const records: Uint8Array[] = []
    let bytes = 0
    let consumed = 0
    for (const name of names as string[]) {
      const held = this.init.store.get(name)
      const fresh = held !== undefined && held.expiresAt > now ? held.bytes : undefined
      if (fresh !== undefined && consumed > 0 && bytes + fresh.byteLength > this.init.limits.maxMessageBytes)
        break
      consumed++
      if (fresh === undefined) continue
      records.push(fresh)
      bytes += fresh.byteLength
    }
    return { records, consumed }
  }

  private async pullFrom(peer: PeerId, signal: AbortSignal | undefined): Promise<SyncReport> {
    const { libp2p, limits, store, seqLedger, intake } = this.init
    const who = peer.toString()
    const stream = await libp2p.dialProtocol(peer, SYNC_PROTOCOL, signal === undefined ? {} : { signal })
    const lp = frames(stream, Math.max(limits.maxMessageBytes, limits.maxRecordBytes))
    let deadline = streamDeadline(stream, limits.streamTimeoutMs, signal)
    const next = () => {
      deadline.clear()
      deadline = streamDeadline(stream, limits.streamTimeoutMs, signal)
    }
    let wanted = 0
    let accepted = 0
    let refused = 0
    let verifying: Promise<void> = Promise.resolve()
    const tally = (outcomes: AdmitOutcome[]) => {
      const bad = outcomes.filter((o) => o.status === 'refused')
      accepted += outcomes.filter((o) => o.status === 'accepted').length
      refused += bad.length
      if (bad.length > 0) this.init.guard.offense(peer, `sync:${bad[0]!.reason}`)
    }
    try {
      let from: number | null = 0
      while (from !== null) {
        await lp.write(encodeJson({ v: 1, op: 'summary', digests: store.summary(), from }), {
          signal: deadline.signal,
        })
        const answer = decodeAnswer(
          await readFrame(
            lp,
            { protocol: 'sync', peer: who, limit: limits.maxMessageBytes },
            deadline.signal,
          ),
          'sync',
          who,
        )
        next()
        const { entries } = answer
        if (
          !Array.isArray(entries) ||
          entries.length > limits.maxSummaryEntries + store.size + SYNC_BUCKETS * 64
        )
          throw new PeerProtocolError('sync', who, '"entries" must be a bounded list of [name, seq]')
        const names: string[] = []
        for (const entry of entries as unknown[]) {
          if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number')
            throw new PeerProtocolError('sync', who, 'every entry must be [name, seq]')
          const [name, seq] = entry as [string, number]
          const held = store.get(name)
          if ((held === undefined || held.seq < seq) && (seqLedger.highest(name) ?? -1) <= seq)
            names.push(name)
        }
        wanted += names.length
        let remaining = names
        while (remaining.length > 0) {
          const batch = remaining.slice(0, limits.syncBatch)
          await lp.write(encodeJson({ v: 1, op: 'pull', names: batch }), { signal: deadline.signal })
          const header = decodeAnswer(
            await readFrame(
              lp,
              { protocol: 'sync', peer: who, limit: limits.maxMessageBytes },
              deadline.signal,
            ),
            'sync',
            who,
          )
          const { records: count, consumed } = header
          if (
            typeof consumed !== 'number' ||
            !Number.isInteger(consumed) ||
            consumed < 1 ||
            consumed > batch.length
          )
            throw new PeerProtocolError('sync', who, `consumed must be an integer from 1 to ${batch.length}`)
          if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > consumed)
            throw new PeerProtocolError('sync', who, `records must be an integer from 0 to ${consumed}`)
          const records: Uint8Array[] = []
          for (let k = 0; k < count; k++)
            records.push(
              await readFrame(
                lp,
                { protocol: 'sync', peer: who, limit: limits.maxRecordBytes },
                deadline.signal,
              ),
            )
          remaining = remaining.slice(consumed)
          next()
          // Verify this batch while the next one travels; at most two batches are held.
          await verifying
          verifying = intake.admitMany(records, `peer:${who}`, 'sync').then(tally)
        }
        const following = answer.next
        if (
          following !== null &&
          (typeof following !== 'number' ||
            !Number.isInteger(following) ||
            following <= from ||
            following >= SYNC_BUCKETS)
        )
          throw new PeerProtocolError('sync', who, '"next" must be a later bucket or null')
        from = following as number | null
      }
      await verifying
      await lp.write(encodeJson({ v: 1, op: 'done' }), { signal: deadline.signal })
      await finish(stream, deadline.signal)
      return { peer: who, wanted, accepted, refused }
    } catch (err) {
      stream.abort(err as Error)
      await verifying.catch(() => undefined)
      throw err
    } finally {
      deadline.clear()
    }
  }
}
