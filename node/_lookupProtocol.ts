import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Clock } from '../src/clock.js'
import { isMeshError } from '../src/errors/base.js'
import type { Logger } from '../src/logger.js'
import { normalizeRecordName } from '../src/name.js'
import { federatedLookup } from '../src/registry/federatedLookup.js'
import { compileNamePattern } from '../src/registry/namePattern.js'
import type { Registry } from '../src/registry/types.js'
import type { RecordVerifier } from '../src/trust/RecordVerifier.js'
import type { SeqLedger } from '../src/trust/SeqLedger.js'
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
import { LOOKUP_PROTOCOL, type PeerLimits } from './limits.js'
import type { RecordStore } from './recordStore.js'

/** What a lookup asks: one name, or the records whose names match a glob. */
export type LookupRequest = { readonly name: string } | { readonly pattern: string }

export interface LookupServiceInit {
  libp2p: Libp2p
  store: RecordStore
  guard: PeerGuard
  limits: PeerLimits
  clock: Clock
  log: Logger
  verifier: RecordVerifier
  seqLedger: SeqLedger
  /** The mesh's other registries, asked when the store lacks a name (never the peer registry: no loops). */
  registries(): readonly Registry[]
  /** Reports a served lookup (`peer:lookup`). */
  onServed(event: { outcome: 'found' | 'missing' | 'error'; name: string; from: string; code?: string }): void
}

/**
 * `/fmesh/lookup/1.0.0`: one request frame `{ v: 1, name }` or `{ v: 1, pattern }` (at most
 * `maxRequestBytes`), one answer header `{ v: 1, ok: true, records: n }` followed by n frames of signed
 * record bytes, or `{ v: 1, ok: false, error }` with the `MeshError` JSON. The answer comes from the
 * node's store, else from the mesh's other registries: always bytes the asker verifies itself.
 */
export class LookupService {
  private readonly limiter: RateLimiter
  private pending = 0

  constructor(private readonly init: LookupServiceInit) {
    const perSecond = init.limits.lookupsPerSecond
    this.limiter = rateLimiter({ perSecond, burst: perSecond * 2, clock: init.clock })
  }

  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const { limits, guard } = this.init
    if (guard.isBanned(peer)) {
      stream.abort(new Error('banned'))
      return
    }
    const deadline = streamDeadline(stream, limits.streamTimeoutMs)
    const lp = frames(stream, limits.maxRequestBytes)
    let name = ''
    try {
      if (!this.limiter.take(peer)) {
        guard.offense(connection.remotePeer, 'lookup-flood')
        throw new PeerRateLimitedError('lookup', peer, limits.lookupsPerSecond)
      }
      if (this.pending >= limits.maxPendingRequests)
        throw new PeerBusyError('lookup', limits.maxPendingRequests)
      this.pending++
      try {
        const bytes = await readFrame(
          lp,
          { protocol: 'lookup', peer, limit: limits.maxRequestBytes },
          deadline.signal,
        )
        const request = parseLookupRequest(decodeMessage(bytes, 'lookup', peer), peer)
        name = 'name' in request ? request.name : request.pattern
        const records = await this.answer(request, deadline.signal)
        await lp.writeV([encodeJson({ v: 1, ok: true, records: records.length }), ...records], {
          signal: deadline.signal,
        })
        this.init.onServed({ outcome: records.length > 0 ? 'found' : 'missing', name, from: peer })
      } finally {
        this.pending--
      }
      await finish(stream, deadline.signal)
    } catch (err) {
      this.init.onServed({
        outcome: 'error',
        name,
        from: peer,
        ...(isMeshError(err) ? { code: err.code } : {}),
      })
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

  /** Asks one peer; resolves to the raw record frames it sent (the caller verifies them). */
  async ask(peer: PeerId, request: LookupRequest, signal?: AbortSignal): Promise<Uint8Array[]> {
    const { libp2p, limits } = this.init
    const who = peer.toString()
    const stream = await libp2p.dialProtocol(peer, LOOKUP_PROTOCOL, signal === undefined ? {} : { signal })
    const deadline = streamDeadline(stream, limits.streamTimeoutMs, signal)
    try {
      const lp = frames(stream, Math.max(limits.maxMessageBytes, limits.maxRecordBytes))
      await lp.write(encodeJson({ v: 1, ...request }), { signal: deadline.signal })
      const header = decodeAnswer(
        await readFrame(
          lp,
          { protocol: 'lookup', peer: who, limit: limits.maxMessageBytes },
          deadline.signal,
        ),
        'lookup',
        who,
      )
      const count = header.records
      const max = 'name' in request ? 1 : limits.maxPatternRecords
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > max)
        throw new PeerProtocolError('lookup', who, `records must be an integer from 0 to ${max}`)
      const out: Uint8Array[] = []
      for (let i = 0; i < count; i++)
        out.push(
          await readFrame(
            lp,
            { protocol: 'lookup', peer: who, limit: limits.maxRecordBytes },
            deadline.signal,
          ),
        )
      await finish(stream, deadline.signal)
      return out
    } catch (err) {
      stream.abort(err as Error)
      throw err
    } finally {
      deadline.clear()
    }
  }

  private async answer(request: LookupRequest, signal: AbortSignal): Promise<Uint8Array[]> {
    const now = this.init.clock.now()
    const fresh = (name: string) => {
      const held = this.init.store.get(name)
      return held !== undefined && held.expiresAt > now ? held.bytes : undefined
    }
    if ('name' in request) {
      const held = fresh(request.name)
      if (held !== undefined) return [held]
      const fromRegistries = await this.fromRegistries(request.name, signal)
      return fromRegistries === undefined ? [] : [fromRegistries]
    }
    const match = compileNamePattern(request.pattern)
    const { maxPatternRecords, maxMessageBytes } = this.init.limits
    const out: Uint8Array[] = []
    const seen = new Set<string>()
    let bytes = 0
    // At most maxPatternRecords records and maxMessageBytes of them: the asker's buffer is bounded.
    const add = (record: Uint8Array) => {
      if (out.length >= maxPatternRecords || bytes + record.byteLength > maxMessageBytes) return false
      out.push(record)
      bytes += record.byteLength
      return true
    }
    for (const name of this.init.store.names()) {
      if (!match(name)) continue
      const held = fresh(name)
      if (held === undefined) continue
      seen.add(name)
      if (!add(held)) return out
    }
    for (const registry of this.init.registries()) {
      for await (const name of registry.list(request.pattern, { signal })) {
        if (seen.has(name)) continue
        seen.add(name)
        const found = await this.fromRegistries(name, signal)
        if (found !== undefined && !add(found)) return out
      }
    }
    return out
  }

  /** The best valid record the mesh's other registries hold (verified here: never relay what we cannot vouch for). */
  private async fromRegistries(name: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const registries = this.init.registries()
    if (registries.length === 0) return undefined
    const { best } = await federatedLookup(registries, name, {
      verifier: this.init.verifier,
      seqLedger: this.init.seqLedger,
      clock: this.init.clock,
      signal,
      timeoutMs: Math.max(1, Math.floor(this.init.limits.streamTimeoutMs / 2)),
    })
    return best?.verified.bytes
  }
}

/** Checks a lookup request: exactly one of a record name or a glob, as strings. */
export function parseLookupRequest(message: Record<string, unknown>, peer: string): LookupRequest {
  const { name, pattern } = message
  if ((name === undefined) === (pattern === undefined))
    throw new PeerRequestInvalidError('lookup', 'give exactly one of "name" or "pattern"', peer)
  if (name !== undefined) {
    if (typeof name !== 'string') throw new PeerRequestInvalidError('lookup', '"name" must be a string', peer)
    return { name: normalizeRecordName(name) }
  }
  if (typeof pattern !== 'string')
    throw new PeerRequestInvalidError('lookup', '"pattern" must be a string', peer)
  compileNamePattern(pattern)
  return { pattern }
}
