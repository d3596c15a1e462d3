import { ID_EPOCH_BITS, ID_INDEX_LAG, type Statements } from './_sql.js'

/**
 * The ledger's lookup indexes, kept off the per-call commit: entries by id (CID), entries by
 * invocation and charges by time (for usage) are indexed in one sorted bulk insert each every ID_INDEX_LAG
 * entries (inside a write transaction), and a lookup also scans the at most ID_INDEX_LAG + one batch
 * entries after them by their integer key.
 */
export class EntryIndex {
  /** Entries (and their charges) below this seq are in the lookup indexes. */
  indexed: number

  constructor(
    private readonly st: Statements,
    /** Entries written to the file (committed, or in the transaction being run). */
    public written: number,
  ) {
    this.indexed = Number((st.getMeta.get('indexed') as { v: string } | undefined)?.v ?? 0)
  }

  /**
   * Inside a write transaction: indexes the entries written since the last refresh when there are
   * enough of them. Returns the new bound, to {@link committed} once the transaction committed.
   */
  refresh(): number | undefined {
    if (this.written - this.indexed < ID_INDEX_LAG) return undefined
    this.st.indexIds.run(this.indexed, this.written)
    this.st.indexInvocations.run(this.indexed, this.written)
    this.st.indexCharges.run(this.indexed, this.written)
    this.st.setMeta.run('indexed', String(this.written))
    return this.written
  }

  committed(indexed: number | undefined): void {
    if (indexed !== undefined) this.indexed = indexed
  }

  /** A committed entry's row by id: through the index, then among the entries it does not cover yet. */
  find(entryId: string): { seq: number; body: Buffer } | undefined {
    if (typeof entryId !== 'string') return undefined
    const lastEpoch = Math.max(0, this.indexed - 1) >> ID_EPOCH_BITS
    return ((this.indexed > 0 ? this.st.entryByIndexedId.get(lastEpoch, entryId, entryId) : undefined) ??
      this.st.entryByRecentId.get(this.indexed, entryId)) as { seq: number; body: Buffer } | undefined
  }
}
