/**
 * The highest `seq` accepted per name, so a source can never roll a name back to an older record.
 * The default lives in memory; a durable one can back it with the ledger database.
 */
export interface SeqLedger {
  highest(name: string): number | undefined
  accept(name: string, seq: number): void
  /**
   * Takes back a seq that turned out not to stand (a chain reorg removed the anchor that fed it):
   * when the highest seq for `name` is still `seq`, it becomes `floor` (none when undefined or 0).
   * A higher seq accepted since, from any source, stays.
   */
  retract?(name: string, seq: number, floor?: number): void
  /** Makes accepted seqs durable; the mesh calls it on close. */
  flush?(): Promise<void>
}

/** An in-memory {@link SeqLedger}. */
export function memorySeqLedger(): SeqLedger {
  const seqs = new Map<string, number>()
  return {
    highest: (name) => seqs.get(name),
    accept(name, seq) {
      const current = seqs.get(name)
      if (current === undefined || seq > current) seqs.set(name, seq)
    },
    retract(name, seq, floor) {
      if (seqs.get(name) !== seq) return
      // Setting an undefined floor would read back as none too (an equivalent mutant of the test below).
      if (floor === undefined || floor <= 0) seqs.delete(name)
      else seqs.set(name, floor)
    },
  }
}
