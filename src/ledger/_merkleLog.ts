import { LineageTamperedError } from '../errors/ledger.js'
import type { Statements } from './_sql.js'
import { CompactTree, EMPTY_ROOT, nodeHash } from './merkle.js'

/** The `nodes` key of the interior node at `level` (>= 1) whose subtree ends at leaf `lastLeaf`. */
export function nodeKey(level: number, lastLeaf: number): number {
  return lastLeaf * 64 + level
}

/**
 * The ledger's RFC 9162 tree: the compact range in memory (for appends and the current root) over
 * the leaf hashes in `entries.leaf` and every complete interior subtree's hash in `nodes`. Nothing is
 * recomputed from all the leaves: opening reads the O(log n) peaks, an inclusion proof reads
 * O(log n) stored hashes.
 */
export class MerkleLog {
  readonly tree: CompactTree

  constructor(
    private readonly st: Statements,
    size: number,
  ) {
    const peaks: Uint8Array[] = []
    let start = 0
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level
      if (size - start >= width) {
        peaks.push(this.subtree(level, start))
        start += width
      }
    }
    this.tree = new CompactTree(size, peaks)
  }

  get size(): number {
    return this.tree.size
  }

  /** Appends a leaf; returns the interior nodes it completed, to be stored with its entry. */
  append(leaf: Uint8Array): Uint8Array[] {
    const completed: Uint8Array[] = []
    this.tree.append(leaf, completed)
    return completed
  }

  /** Stores the nodes {@link append} returned for leaf `seq` (inside the write transaction). */
  writeNodes(seq: number, completed: readonly Uint8Array[]): void {
    for (let i = 0; i < completed.length; i++) {
      const h = completed[i]!
      this.st.insertNode.run(nodeKey(i + 1, seq), Buffer.from(h.buffer, h.byteOffset, h.byteLength))
    }
  }

  /**
   * The audit path (RFC 9162 2.1.3.1, `PATH(m, D[0:n])`) of leaf `index` in the tree of the first
   * `size` leaves, from the leaf upwards, from stored hashes only. Every sibling on the way down is a
   * stored perfect subtree except at most one right-hand range, which is folded from its O(log n)
   * stored peaks.
   */
  inclusionPath(index: number, size: number): Uint8Array[] {
    const path: Uint8Array[] = []
    let from = 0
    let to = size
    while (to - from > 1) {
      const n = to - from
      let k = 1
      while (k * 2 < n) k *= 2
      if (index - from < k) {
        path.push(this.rangeRoot(from + k, to))
        to = from + k
      } else {
        path.push(this.subtree(Math.log2(k), from))
        from += k
      }
    }
    return path.reverse()
  }

  /** The Merkle Tree Hash of leaves `[from, to)`, where `from` is aligned to the range's largest power of two. */
  private rangeRoot(from: number, to: number): Uint8Array {
    if (to <= from) return EMPTY_ROOT
    const peaks: Uint8Array[] = []
    let start = from
    while (start < to) {
      let level = 0
      while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= to) level++
      peaks.push(this.subtree(level, start))
      start += 2 ** level
    }
    let root = peaks[peaks.length - 1]!
    for (let i = peaks.length - 2; i >= 0; i--) root = nodeHash(peaks[i]!, root)
    return root
  }

  /** The stored hash of the perfect subtree of 2^level leaves starting at leaf `start`. */
  private subtree(level: number, start: number): Uint8Array {
    const row = (
      level === 0 ? this.st.leaf.get(start) : this.st.node.get(nodeKey(level, start + 2 ** level - 1))
    ) as Buffer | undefined
    if (row === undefined)
      throw new LineageTamperedError(
        `the Merkle node of level ${level} at leaf ${start}`,
        'it is missing from the ledger file',
        { seq: start },
      )
    return new Uint8Array(row.buffer, row.byteOffset, row.byteLength)
  }
}
