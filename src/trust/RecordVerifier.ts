import type { KeyObject } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { LRUCache } from 'lru-cache'
import { raceSignal, throwIfAborted } from '../abort.js'
import { type Clock, systemClock } from '../clock.js'
import { sha256 } from '../encoding/jsonCid.js'
import { RecordSchemaError } from '../errors/record.js'
import {
  NamespaceUnownedError,
  RecordExpiredError,
  RecordNotYetValidError,
  RecordUnsignedError,
  SignatureInvalidError,
  SignerNotOwnerError,
} from '../errors/trust.js'
import { MAX_RECORD_BYTES, parseRecordSource, type RecordSource } from '../record/codec.js'
import type { FunctionRecord } from '../record/schema.js'
import { validateRecord } from '../record/validate.js'
import { type Integrity, integrityOf, keyObjects, verifyHere, verifyOnThreadPool } from './_integrity.js'
import { IntegrityPool } from './_integrityPool.js'
import { type Owners, ownersFrom } from './_trustOwners.js'
import type { AbortOptions, TrustSource } from './types.js'

/** A record that passed every check, with the facts of how. */
export interface VerifiedRecord {
  readonly record: FunctionRecord
  /** CIDv1 of {@link VerifiedRecord.bytes}. */
  readonly id: string
  /** The record's canonical (RFC 8785) bytes, signatures included. */
  readonly bytes: Uint8Array
  /** The owner key whose signature verified. */
  readonly keyId: string
  /** The trust source that said the key may publish for the namespace. */
  readonly trustSource: string
}

export interface VerifyOptions extends AbortOptions {
  /** Where the bytes came from, named in errors. */
  origin?: string
  /** Refuse the record unless it is for this name (a registry answering for another name). */
  expectName?: string
  /** Accept a record past its `expiresAt` (publishers reading the seq of the record they replace). */
  allowExpired?: boolean
  /**
   * A record of a namespace no trust source knows: `refuse` it (`E_NAMESPACE_UNOWNED`), or check its
   * `integrity` only (every signature must verify for the key it names; `trustSource` is then
   * `'none'`). Registries store such records and leave the refusal to the mesh, which always refuses.
   * @default 'refuse'
   */
  unowned?: 'refuse' | 'integrity'
  /**
   * Keep the verified record in the seen cache (see {@link RecordVerifierInit.seenCacheSize}). A
   * caller that holds the bytes and may never read the record again (the peer node storing what
   * gossip and anti-entropy bring) passes `false`: every record kept there is a parsed object graph
   * that outlives the young generation and costs every later garbage collection. A hit is still used.
   * @default true
   */
  remember?: boolean
}

export interface RecordVerifierInit {
  trust: readonly TrustSource[]
  clock?: Clock
  /** @default MAX_RECORD_BYTES */
  maxBytes?: number
  /** How far in the future `issuedAt` may lie. @default 300000 (5 minutes) */
  maxClockSkewMs?: number
  /**
   * Records whose bytes were verified before, remembered by their sha-256, so the same record
   * fetched again (after a TTL, on a re-sync, from another peer) skips parsing and signature
   * checks. Time and ownership are checked again on every hit. 0 turns it off. @default 10000
   */
  seenCacheSize?: number
  /**
   * Worker threads that check the integrity of records in {@link RecordVerifier.verifyMany} (JSON,
   * canonical forms, id, ed25519), while this thread checks schema, time and ownership. Started on
   * the first batch of at least `workerMinBatch` records; 0 keeps every check on this thread.
   * @default DEFAULT_VERIFY_WORKERS
   */
  workers?: number
  /** Smallest `verifyMany` batch sent to the workers; smaller ones are checked here. @default 32 */
  workerMinBatch?: number
}

/** A {@link RecordVerifier.prepareMany} batch: its integrity checks run on the workers until `finish`. */
export interface PreparedBatch {
  /** Verifies the batch as `verifyMany` does, using what the workers found meanwhile. Once only. */
  finish(concurrency?: number): Promise<PromiseSettledResult<VerifiedRecord>[]>
  /** Gives the batch up (what the workers find is dropped); this thread takes queued records again. */
  discard(): void
}

/** What {@link RecordVerifier.verifyMany} worked out for a record before checking it. */
interface Pre {
  readonly digest: string | undefined
  /** The workers' integrity check, when the record was sent to them. */
  readonly integrity: Promise<Integrity> | undefined
}

interface Seen {
  readonly verified: Omit<VerifiedRecord, 'keyId' | 'trustSource'>
  /** The keys whose signatures over these bytes verified. */
  readonly goodKeys: ReadonlySet<string>
}

/** Clock skew tolerated on `issuedAt`. @default 300000 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000

/**
 * Verification workers: one per core but this thread's, at most 4. @default min(4, cores - 1), at least 1
 *
 * Where a record is checked (a worker or this thread) never changes its answer, only the time it
 * takes: the parity tests pin that. So mutation testing reports the choices of that (this count,
 * `workerMinBatch`, which records `dispatch` and `prepareMany` send, the lanes of `settle`, the seen
 * cache shortcut, `verifyOnThreadPool` against `verifyHere`, `close`) as equivalent mutants; the bench
 * measures them instead.
 */
export const DEFAULT_VERIFY_WORKERS = Math.min(4, Math.max(1, availableParallelism() - 1))

/** Smallest `verifyMany` batch worth sending to the workers (measured crossover). @default 32 */
export const DEFAULT_WORKER_MIN_BATCH = 32

/**
 * Verifies untrusted record bytes: size, JSON, schema, name, time window, and a signature by a key
 * allowed to publish for the record's namespace. (Rollback is checked by the mesh, which knows the
 * highest seq accepted so far.)
 *
 * @example
 * ```ts
 * const verifier = new RecordVerifier({ trust: [pinnedTrust({ 'acme.com': [signer.id] })] })
 * const { record, id } = await verifier.verify(bytes, { origin: 'git' })
 * ```
 */
export class RecordVerifier {
  private readonly trust: readonly TrustSource[]
  private readonly clock: Clock
  private readonly maxBytes: number | undefined
  private readonly maxSkew: number
  private readonly keyObject: (keyId: string) => KeyObject | undefined = keyObjects()
  private readonly seen: LRUCache<string, Seen> | undefined
  private readonly workers: number
  private readonly workerMinBatch: number
  private pool: IntegrityPool | undefined

  constructor(init: RecordVerifierInit) {
    this.trust = init.trust
    this.clock = init.clock ?? systemClock
    this.maxBytes = init.maxBytes
    this.maxSkew = init.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
    const seenSize = init.seenCacheSize ?? 10_000
    this.seen = seenSize > 0 ? new LRUCache({ max: seenSize }) : undefined
    this.workers = Math.max(0, Math.floor(init.workers ?? DEFAULT_VERIFY_WORKERS))
    this.workerMinBatch = Math.max(1, init.workerMinBatch ?? DEFAULT_WORKER_MIN_BATCH)
  }

  /**
   * Verifies one record. The signature is checked on this thread: the lowest latency for a single
   * lookup. For many records at once use {@link RecordVerifier.verifyMany}.
   */
  verify(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifiedRecord> {
    return this.check(bytes, options, false)
  }

  /**
   * Verifies many records (a sync, a peer's batch). With workers (see
   * {@link RecordVerifierInit.workers}) and at least `workerMinBatch` records, worker threads check
   * each record's integrity (JSON, canonical forms, id, signatures) while this thread checks schema,
   * time and ownership; otherwise signatures are checked on libuv's thread pool while this thread
   * parses the next records. Results are settled in input order: one bad record never hides the others.
   */
  async verifyMany(
    items: readonly { bytes: Uint8Array; options?: VerifyOptions }[],
    concurrency = 32,
  ): Promise<PromiseSettledResult<VerifiedRecord>[]> {
    return this.settle(items, this.dispatch(items), concurrency)
  }

  /**
   * {@link RecordVerifier.verifyMany} in two steps, for a caller whose thread is busy meanwhile (a
   * Git fetch still indexing the pack these records came from): the workers start checking each
   * record's integrity now, while this thread does nothing for them (no parsing, no queued records
   * taken) until `finish`, which then settles every record exactly as `verifyMany(items)` would.
   * `discard` gives up instead. Without workers, everything happens in `finish`.
   */
  prepareMany(items: readonly { bytes: Uint8Array; options?: VerifyOptions }[]): PreparedBatch {
    const pool = this.workers > 0 && items.length >= this.workerMinBatch ? this.startPool() : undefined
    pool?.hold()
    const pre = pool === undefined ? undefined : this.dispatch(items)
    let open = true
    const release = () => {
      if (open) pool?.release()
      open = false
    }
    return {
      finish: (concurrency = 32) => {
        if (!open) return Promise.reject(new Error('this prepared batch was finished or discarded'))
        release()
        return this.settle(items, pre, concurrency)
      },
      discard: release,
    }
  }

  private async settle(
    items: readonly { bytes: Uint8Array; options?: VerifyOptions }[],
    pre: Pre[] | undefined,
    concurrency: number,
  ): Promise<PromiseSettledResult<VerifiedRecord>[]> {
    const results: PromiseSettledResult<VerifiedRecord>[] = new Array(items.length)
    let next = 0
    const lane = async () => {
      while (next < items.length) {
        const i = next++
        const item = items[i]!
        try {
          results[i] = {
            status: 'fulfilled',
            value: await this.check(item.bytes, item.options ?? {}, true, pre?.[i]),
          }
        } catch (reason) {
          results[i] = { status: 'rejected', reason }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane))
    return results
  }

  /**
   * Stops the verification workers. Idempotent; the verifier stays usable (a later large
   * `verifyMany` starts them again), and records in flight are finished on this thread.
   */
  async close(): Promise<void> {
    const pool = this.pool
    this.pool = undefined
    await pool?.close()
  }

  /**
   * Hands the records not already in the seen cache to the workers, when the batch is worth it. The
   * size and abort guards only spare the workers: `check` refuses such records first anyway (its own
   * parse applies `maxBytes`), so dropping a guard is an equivalent mutant.
   */
  private dispatch(items: readonly { bytes: Uint8Array; options?: VerifyOptions }[]): Pre[] | undefined {
    if (this.workers === 0 || items.length < this.workerMinBatch) return undefined
    const maxBytes = this.maxBytes ?? MAX_RECORD_BYTES
    const pre: Pre[] = new Array(items.length)
    const sent: number[] = []
    items.forEach(({ bytes, options }, i) => {
      const valid = bytes instanceof Uint8Array
      const digest = this.seen !== undefined && valid ? sha256(bytes) : undefined
      pre[i] = { digest, integrity: undefined }
      if (!valid || bytes.byteLength > maxBytes || options?.signal?.aborted === true) return
      if (digest !== undefined && this.seen!.has(digest)) return
      sent.push(i)
    })
    if (sent.length === 0) return pre
    const checks = this.startPool().check(
      sent.map((i) => ({
        bytes: items[i]!.bytes,
        origin: items[i]!.options?.origin,
        signal: items[i]!.options?.signal,
      })),
    )
    sent.forEach((i, k) => {
      pre[i] = { digest: pre[i]!.digest, integrity: checks[k]! }
    })
    return pre
  }

  private startPool(): IntegrityPool {
    this.pool ??= new IntegrityPool({
      size: this.workers,
      maxBytes: this.maxBytes ?? MAX_RECORD_BYTES,
      keyObject: (keyId) => this.keyObject(keyId),
    })
    return this.pool
  }

  private async check(
    bytes: Uint8Array,
    options: VerifyOptions,
    offThread: boolean,
    pre?: Pre,
  ): Promise<VerifiedRecord> {
    throwIfAborted(options.signal, 'record verification')
    const origin = options.origin
    const where = origin === undefined ? {} : { origin }
    const digest =
      pre !== undefined
        ? pre.digest
        : this.seen !== undefined && bytes instanceof Uint8Array
          ? sha256(bytes)
          : undefined
    const seen = digest === undefined ? undefined : this.seen!.get(digest)
    let parsed: { value: Record<string, unknown>; source: RecordSource } | undefined
    let record: FunctionRecord
    if (seen !== undefined) record = seen.verified.record
    else {
      parsed = this.parse(bytes, origin)
      record = validateRecord(parsed.value, origin)
    }
    if (options.expectName !== undefined && record.name !== options.expectName) {
      throw new RecordSchemaError(
        'name',
        `expected ${options.expectName}, the name that was looked up`,
        where,
      )
    }
    const ref = { name: record.name, origin }
    const now = this.clock.now()
    if (options.allowExpired !== true && Date.parse(record.expiresAt) <= now) {
      throw new RecordExpiredError(ref, record.expiresAt, new Date(now).toISOString())
    }
    if (Date.parse(record.issuedAt) > now + this.maxSkew) {
      throw new RecordNotYetValidError(ref, record.issuedAt, new Date(now).toISOString())
    }
    if (record.signatures.length === 0) throw new RecordUnsignedError(ref)
    let trusted: Owners
    try {
      const found = ownersFrom(this.trust, record.namespace, record.name, options)
      trusted = found instanceof Promise ? await found : found
    } catch (err) {
      if (options.unowned !== 'integrity' || !(err instanceof NamespaceUnownedError)) throw err
      trusted = { owners: record.signatures.map((s) => s.keyId), source: 'none' }
    }
    const { owners, source } = trusted
    const ownerSignatures = record.signatures.filter((s) => owners.includes(s.keyId))
    if (ownerSignatures.length === 0) {
      throw new SignerNotOwnerError(
        { ...ref, namespace: record.namespace },
        record.signatures.map((s) => s.keyId),
      )
    }
    const keyId = ownerSignatures[0]!.keyId
    if (seen !== undefined && ownerSignatures.every((s) => seen.goodKeys.has(s.keyId))) {
      return { ...seen.verified, keyId, trustSource: source }
    }
    // The integrity facts: from a worker, or checked here for the owners' signatures only. The same
    // rules apply to either, in the same order.
    const integrity: Integrity =
      pre?.integrity !== undefined
        ? await raceSignal(pre.integrity, options.signal, 'record verification')
        : await this.integrityHere(parsed ?? this.parse(bytes, origin), {
            keyObject: this.keyObject,
            origin,
            keys: new Set(ownerSignatures.map((s) => s.keyId)),
            verify: offThread ? verifyOnThreadPool : verifyHere,
            digest,
          })
    if ('error' in integrity) throw integrity.error
    for (const signature of ownerSignatures) {
      if (this.keyObject(signature.keyId) === undefined)
        throw new SignatureInvalidError(ref, signature.keyId, 'the key id is not an ed25519 did:key')
      if (!integrity.good.has(signature.keyId)) throw new SignatureInvalidError(ref, signature.keyId)
    }
    const verified = { record, id: integrity.id, bytes: integrity.canonical }
    const goodKeys = integrity.good
    if (digest !== undefined && options.remember !== false) this.seen!.set(digest, { verified, goodKeys })
    return { ...verified, keyId, trustSource: source }
  }

  private integrityHere(
    parsed: { value: Record<string, unknown>; source: RecordSource },
    options: Parameters<typeof integrityOf>[1],
  ): Promise<Integrity> {
    return integrityOf(parsed.value, options, parsed.source)
  }

  private parse(
    bytes: Uint8Array,
    origin: string | undefined,
  ): { value: Record<string, unknown>; source: RecordSource } {
    return parseRecordSource(bytes, {
      ...(this.maxBytes === undefined ? {} : { maxBytes: this.maxBytes }),
      ...(origin === undefined ? {} : { origin }),
    })
  }

  /** The publisher keys of a namespace from the first trust source that knows it. */
  async ownersOf(
    namespace: string,
    name?: string,
    options: AbortOptions = {},
  ): Promise<{ owners: readonly string[]; source: string }> {
    return ownersFrom(this.trust, namespace, name, options)
  }
}
