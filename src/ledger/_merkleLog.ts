import { LineageTamperedError } from '../errors/ledger.js'
import type { Statements } from './_sql.js'
import { CompactTree, EMPTY_ROOT, nodeHash, subtreeRoot } from './merkle.js'

/**
 * Interior nodes below this level are not stored: a subtree of fewer than 2^NODE_MIN_LEVEL leaves is
 * hashed from its leaves when needed (at most 8 reads), which keeps the rows a call writes to one
 * node per 16 entries. @default 4
 */
export const NODE_MIN_LEVEL = 4

/** The `nodes` key of the interior node at `level` (>= NODE_MIN_LEVEL) whose subtree ends at leaf `lastLeaf`. */
export function nodeKey(level: number, lastLeaf: number): number {
  return lastLeaf * 64 + level
}

/**
 * The ledger's RFC 9162 tree: the compact range in memory (for appends and the current root) over
 * the leaf hashes in `entries.leaf` and the hash of every complete subtree of 2^NODE_MIN_LEVEL or
 * more leaves in `nodes`. Nothing is recomputed from all the leaves: opening reads the O(log n)
 * peaks, an inclusion proof reads O(log n) stored hashes (plus at most 15 leaves for its lowest
 * levels).
 */
export class MerkleLog {
  readonly tree: CompactTree

  constructor(
    private readonly st: Statements,
    size: number,
  ) {
    this.tree = this.load(size)
  }

  /**
   * The compact tree over the first `size` leaves, from their O(log n) stored peaks; from every stored
   * leaf when a peak cannot be read (a damaged file still opens, and `verify()` names the damage).
   */
  private load(size: number): CompactTree {
    try {
      const peaks: Uint8Array[] = []
      let start = 0
      for (let level = 52; level >= 0; level--) {
        const width = 2 ** level
        if (size - start >= width) {
          peaks.push(this.subtree(level, start))
          start += width
        }
      }
      return new CompactTree(size, peaks)
    } catch (err) {
      if (!(err instanceof LineageTamperedError)) throw err
      const tree = new CompactTree()
      for (const leaf of this.st.leaves.iterate(0, size) as Iterable<Buffer>)
        tree.append(new Uint8Array(leaf))
      return tree
    }
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
    for (let i = NODE_MIN_LEVEL - 1; i < completed.length; i++) {
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
    if (level > 0 && level < NODE_MIN_LEVEL) {
      const leaves = (this.st.leaves.all(start, start + 2 ** level) as Buffer[]).map(
        (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      )
      if (leaves.length === 2 ** level) return subtreeRoot(leaves)
    }
    const row = (
      level === 0
        ? this.st.leaf.get(start)
        : level < NODE_MIN_LEVEL
          ? undefined
          : this.st.node.get(nodeKey(level, start + 2 ** level - 1))
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
