import type { PeerId } from '@libp2p/interface'
import { throwIfAborted } from '../src/abort.js'
import type { Clock } from '../src/clock.js'
import { PublishConflictError, RegistryError } from '../src/errors/registry.js'
import { AbortedError } from '../src/errors/resolve.js'
import type { Logger } from '../src/logger.js'
import type { EncodedRecord } from '../src/record/signRecord.js'
import { checkEncodedRecord } from '../src/registry/checkEncodedRecord.js'
import { compileNamePattern } from '../src/registry/namePattern.js'
import type {
  AbortOptions,
  PublishReceipt,
  Registry,
  RegistryChange,
  RegistryEntry,
} from '../src/registry/types.js'
import { type WatchQueue, watchQueue } from '../src/registry/watchQueue.js'
import type { RecordVerifier } from '../src/trust/RecordVerifier.js'
import type { SeqLedger } from '../src/trust/SeqLedger.js'
import { Intake } from './_intake.js'
import type { LookupRequest, LookupService } from './_lookupProtocol.js'
import type { PeerGuard } from './_peerGuard.js'
import { PeerBusyError } from './errors.js'
import type { PeerLimits } from './limits.js'
import type { RecordStore } from './recordStore.js'

export interface PeerRegistryInit {
  id: string
  store: RecordStore
  verifier: RecordVerifier
  seqLedger: SeqLedger
  clock: Clock
  limits: PeerLimits
  guard: PeerGuard
  log: Logger
  /** Connected peers that speak the lookup protocol, best first. */
  peers(): PeerId[]
  lookup: LookupService
  /** Announces a record this node stored (gossip); failures are logged, anti-entropy repairs them. */
  announce(bytes: Uint8Array): Promise<void>
}

/**
 * The `Registry` the peer node adds to its mesh: what other mesh nodes hold. `lookup` answers from
 * the node's store (filled by gossip, anti-entropy and earlier lookups), else asks the connected
 * peers at once under `lookupTimeoutMs`, verifies every answer and keeps the highest valid seq.
 * `publish` stores the record and announces it on the records topic. `watch` reports every record
 * that arrived from a peer, so the Resolver drops the cached name at once (a yank is one announcement
 * away from every node, not one TTL).
 */
export class PeerRegistry implements Registry {
  readonly id: string
  readonly intake: Intake
  private readonly changes: WatchQueue = watchQueue()
  private readonly flights = new Map<string, Promise<void>>()
  private readonly lifetime = new AbortController()

  constructor(private readonly init: PeerRegistryInit) {
    this.id = init.id
    this.intake = new Intake({
      store: init.store,
      verifier: init.verifier,
      seqLedger: init.seqLedger,
      clock: init.clock,
      maxRecordBytes: init.limits.maxRecordBytes,
      changes: this.changes,
    })
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    throwIfAborted(options.signal, `${this.id} lookup`)
    const key = String(name).toLowerCase()
    const held = this.fresh(key)
    if (held !== undefined) return held
    await this.askPeers({ name: key }, options.signal)
    return this.fresh(key)
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    throwIfAborted(options.signal, `${this.id} list`)
    await this.askPeers({ pattern }, options.signal)
    const now = this.init.clock.now()
    for (const name of [...this.init.store.names()]) {
      throwIfAborted(options.signal, `${this.id} list`)
      const held = this.init.store.get(name)
      if (held !== undefined && held.expiresAt > now && match(name)) yield name
    }
  }

  async publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    throwIfAborted(options.signal, `${this.id} publish`)
    const name = checkEncodedRecord(encoded, this.id)
    const verified = await this.init.verifier.verify(encoded.bytes, { origin: this.id, expectName: name })
    throwIfAborted(options.signal, `${this.id} publish`)
    const { record, id } = verified
    const held = this.init.store.get(record.name)
    const receipt = { registry: this.id, location: `peer:${id}` }
    if (held !== undefined && held.id === id) return receipt
    if (held !== undefined && record.seq <= held.seq)
      throw new PublishConflictError(this.id, record.name, record.seq, held.seq)
    if (this.init.store.put(verified, this.init.clock.now()) === undefined)
      throw new RegistryError(
        this.id,
        'publish',
        `the store holds its maximum of ${this.init.limits.maxRecords} records`,
      )
    this.init.seqLedger.accept(record.name, record.seq)
    this.intake.notify([record.name], 'publish')
    await this.init.announce(verified.bytes)
    return receipt
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.changes.follow(options.signal, `${this.id} watch`)
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.lifetime.abort()
  }

  private fresh(name: string): RegistryEntry | undefined {
    const held = this.init.store.get(name)
    if (held === undefined || held.expiresAt <= this.init.clock.now()) return undefined
    return { bytes: held.bytes, location: `peer:${held.id}` }
  }

  /**
   * Asks the connected peers at once and admits what they answer (verified; the highest valid seq
   * stays in the store). One flight per request at a time; at most `maxPendingLookups` flights.
   */
  private async askPeers(request: LookupRequest, signal: AbortSignal | undefined): Promise<void> {
    const key = 'name' in request ? `n:${request.name}` : `p:${request.pattern}`
    let flight = this.flights.get(key)
    if (flight === undefined) {
      if (this.flights.size >= this.init.limits.maxPendingLookups)
        throw new PeerBusyError('lookup', this.init.limits.maxPendingLookups)
      flight = this.fanOut(request).finally(() => this.flights.delete(key))
      this.flights.set(key, flight)
    }
    if (signal === undefined) return flight
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new AbortedError(`${this.id} lookup`, signal.reason))
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      flight.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  private async fanOut(request: LookupRequest): Promise<void> {
    const peers = this.init.peers().slice(0, this.init.limits.lookupFanout)
    if (peers.length === 0 || this.lifetime.signal.aborted) return
    const signal = AbortSignal.any([
      this.lifetime.signal,
      AbortSignal.timeout(this.init.limits.lookupTimeoutMs),
    ])
    const expect = 'name' in request ? { expectName: request.name } : {}
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const records = await this.init.lookup.ask(peer, request, signal)
          const outcomes = await Promise.all(
            records.map((bytes) => this.intake.admit(bytes, `peer:${peer}`, 'lookup', expect)),
          )
          const refused = outcomes.find((o) => o.status === 'refused')
          if (refused !== undefined && refused.status === 'refused')
            this.init.guard.offense(peer, `lookup-answer:${refused.reason}`)
        } catch (err) {
          this.init.log('lookup from %s failed: %s', peer, (err as Error).message)
        }
      }),
    )
  }
}
