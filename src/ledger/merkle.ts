import { createHash } from 'node:crypto'
import { digestBytes, sha256 } from '../encoding/jsonCid.js'

// RFC 9162 (Certificate Transparency 2.0), section 2.1: the Merkle Tree Hash over a list of leaves.
// leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); a list of n > 1 leaves splits
// at k, the largest power of two smaller than n.

const LEAF_PREFIX = Buffer.of(0x00)
const NODE_PREFIX = Buffer.of(0x01)

/** The hash of an empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(createHash('sha256').digest())

/** `SHA-256(0x00 || data)`: a leaf's hash. */
export function leafHash(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(data).digest())
}

const pair = Buffer.alloc(65)
pair[0] = NODE_PREFIX[0]!

/** `SHA-256(0x01 || left || right)`: an interior node's hash. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32)
    return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest())
  pair.set(left, 1)
  pair.set(right, 33)
  const digest = digestBytes(sha256(pair))
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** The largest power of two strictly smaller than `n` (n >= 2). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** The Merkle Tree Hash of `leaves[from, to)`, given leaf hashes. */
export function subtreeRoot(leaves: readonly Uint8Array[], from = 0, to = leaves.length): Uint8Array {
  const n = to - from
  if (n === 0) return EMPTY_ROOT
  if (n === 1) return leaves[from]!
  const k = split(n)
  return nodeHash(subtreeRoot(leaves, from, from + k), subtreeRoot(leaves, from + k, to))
}

/**
 * The audit path of leaf `index` in the tree of `leaves` (RFC 9162 2.1.3.1, `PATH(m, D[n])`), ordered
 * from the leaf upwards.
 */
export function inclusionPath(
  leaves: readonly Uint8Array[],
  index: number,
  from = 0,
  to = leaves.length,
): Uint8Array[] {
  const n = to - from
  if (n <= 1) return []
  const k = split(n)
  if (index < k) return [...inclusionPath(leaves, index, from, from + k), subtreeRoot(leaves, from + k, to)]
  return [...inclusionPath(leaves, index - k, from + k, to), subtreeRoot(leaves, from, from + k)]
}

/**
 * Checks an inclusion proof (RFC 9162 2.1.3.2): that the leaf with hash `leaf` sits at `index` in the
 * tree of `treeSize` leaves whose root is `root`.
 *
 * @example
 * ```ts
 * verifyInclusionPath(leafHash(entryBytes), 3, 8, path, root) // true
 * ```
 */
export function verifyInclusionPath(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize)
    return false
  let fn = index
  let sn = treeSize - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equalBytes(r, root)
}

/**
 * An append-only Merkle tree kept as its compact range: the roots of the perfect subtrees ("peaks")
 * that cover the leaves so far, largest first. Appending costs one hash per carried level (amortized
 * one); the RFC 9162 root folds the peaks from the right.
 */
export class CompactTree {
  private peaks: Uint8Array[]
  private count: number

  constructor(size = 0, peaks: Uint8Array[] = []) {
    if (popcount(size) !== peaks.length)
      throw new Error(`compact tree of size ${size} needs ${popcount(size)} peaks`)
    this.count = size
    this.peaks = peaks
  }

  get size(): number {
    return this.count
  }

  /** A copy of the peaks, largest subtree first. */
  snapshot(): Uint8Array[] {
    return [...this.peaks]
  }

  /**
   * Appends a leaf hash. The interior nodes it completes (levels 1, 2, ... of the subtrees that now
   * end at this leaf) are pushed to `completed` when given.
   */
  append(leaf: Uint8Array, completed?: Uint8Array[]): void {
    let node = leaf
    let n = this.count
    while (n % 2 === 1) {
      node = nodeHash(this.peaks.pop()!, node)
      completed?.push(node)
      n = Math.floor(n / 2)
    }
    this.peaks.push(node)
    this.count++
  }

  root(): Uint8Array {
    if (this.peaks.length === 0) return EMPTY_ROOT
    let hash = this.peaks[this.peaks.length - 1]!
    for (let i = this.peaks.length - 2; i >= 0; i--) hash = nodeHash(this.peaks[i]!, hash)
    return hash
  }
}

function popcount(n: number): number {
  let c = 0
  for (let v = n; v > 0; v = Math.floor(v / 2)) c += v % 2
  return c
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
