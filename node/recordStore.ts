import { createHash } from 'node:crypto'
import type { VerifiedRecord } from '../src/trust/RecordVerifier.js'

/** Buckets of the anti-entropy summary: names hash into one of these. */
export const SYNC_BUCKETS = 256

/** One record the node holds: verified bytes and the facts the protocols need without parsing them. */
export interface StoredRecord {
  readonly name: string
  readonly seq: number
  /** CIDv1 of the canonical bytes. */
  readonly id: string
  readonly bytes: Uint8Array
  /** `expiresAt` in ms, so expired records are dropped first when the store is full. */
  readonly expiresAt: number
}

/**
 * The peer node's local record store: every record it verified (published here, gossiped, pulled
 * by anti-entropy, answered by a lookup), one per name, at most `maxRecords`. Everything it holds is
 * served to peers (lookup and sync answers) and to the Resolver, so `put` takes only what the
 * verifier returned: bytes a peer sent cannot reach the store, and so cannot be served, unverified. It also keeps the
 * anti-entropy summary: per bucket of names, a digest over `name seq id` lines, recomputed lazily.
 */
export class RecordStore {
  private readonly records = new Map<string, StoredRecord>()
  private readonly buckets: Set<string>[] = Array.from({ length: SYNC_BUCKETS }, () => new Set())
  private readonly digests: (string | undefined)[] = new Array(SYNC_BUCKETS).fill(undefined)

  constructor(private readonly maxRecords: number) {}

  get size(): number {
    return this.records.size
  }

  get(name: string): StoredRecord | undefined {
    return this.records.get(name)
  }

  names(): IterableIterator<string> {
    return this.records.keys()
  }

  /**
   * Stores a verified record that replaces nothing newer (the caller checked seqs). When the store is
   * full, an expired record makes room; without one, a new name is refused (undefined) and held
   * names still update.
   */
  put(verified: VerifiedRecord, now: number): StoredRecord | undefined {
    const { record: parsed, id, bytes } = verified
    const record: StoredRecord = {
      name: parsed.name,
      seq: parsed.seq,
      id,
      bytes,
      expiresAt: Date.parse(parsed.expiresAt),
    }
    const held = this.records.has(record.name)
    if (!held && this.records.size >= this.maxRecords && !this.evictExpired(now)) return undefined
    this.records.set(record.name, record)
    const b = bucketOf(record.name)
    this.buckets[b]!.add(record.name)
    this.digests[b] = undefined
    return record
  }

  delete(name: string): void {
    if (!this.records.delete(name)) return
    const b = bucketOf(name)
    this.buckets[b]!.delete(name)
    this.digests[b] = undefined
  }

  /** The digest of every bucket, base64 of the first 12 bytes of a sha-256 ('' for an empty bucket). */
  summary(): string[] {
    const out: string[] = new Array(SYNC_BUCKETS)
    for (let b = 0; b < SYNC_BUCKETS; b++) out[b] = this.digestOf(b)
    return out
  }

  /** `[name, seq]` of every record in bucket `b`. */
  entries(b: number): [string, number][] {
    const out: [string, number][] = []
    for (const name of this.buckets[b] ?? []) out.push([name, this.records.get(name)!.seq])
    return out
  }

  private digestOf(b: number): string {
    const cached = this.digests[b]
    if (cached !== undefined) return cached
    const names = [...this.buckets[b]!].sort()
    let digest = ''
    if (names.length > 0) {
      const hash = createHash('sha256')
      for (const name of names) {
        const r = this.records.get(name)!
        hash.update(`${name} ${r.seq} ${r.id}\n`)
      }
      digest = hash.digest().subarray(0, 12).toString('base64')
    }
    this.digests[b] = digest
    return digest
  }

  private evictExpired(now: number): boolean {
    for (const record of this.records.values()) {
      if (record.expiresAt <= now) {
        this.delete(record.name)
        return true
      }
    }
    return false
  }
}

/** FNV-1a over the name's UTF-16 code units, folded to a bucket index: cheap, stable across nodes. */
export function bucketOf(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % SYNC_BUCKETS
}
