import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CompactTree,
  EMPTY_ROOT,
  inclusionPath,
  leafHash,
  nodeHash,
  subtreeRoot,
  verifyInclusionPath,
} from '../../src/ledger/merkle.js'

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`entry-${i}`)))

describe('RFC 9162 Merkle tree', () => {
  it('hashes leaves with 0x00 and nodes with 0x01 domain prefixes', () => {
    const data = new TextEncoder().encode('hello')
    expect(leafHash(data)).toEqual(sha(Uint8Array.of(0), data))
    const a = leafHash(Uint8Array.of(1))
    const b = leafHash(Uint8Array.of(2))
    expect(nodeHash(a, b)).toEqual(sha(Uint8Array.of(1), a, b))
    expect(Buffer.from(EMPTY_ROOT).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
  })

  it('splits a non-power-of-two list at the largest power of two below its size', () => {
    const l = leaves(7)
    const expected = nodeHash(
      nodeHash(nodeHash(l[0]!, l[1]!), nodeHash(l[2]!, l[3]!)),
      nodeHash(nodeHash(l[4]!, l[5]!), l[6]!),
    )
    expect(subtreeRoot(l)).toEqual(expected)
  })

  it('the compact tree root equals the recursive root at every size', () => {
    const l = leaves(130)
    const tree = new CompactTree()
    expect(tree.root()).toEqual(EMPTY_ROOT)
    for (let n = 1; n <= l.length; n++) {
      tree.append(l[n - 1]!)
      expect(tree.root()).toEqual(subtreeRoot(l.slice(0, n)))
    }
    const restored = new CompactTree(tree.size, tree.snapshot())
    expect(restored.root()).toEqual(tree.root())
  })

  it('every inclusion path verifies, for every index of every size up to 40', () => {
    const l = leaves(40)
    for (let n = 1; n <= 40; n++) {
      const root = subtreeRoot(l, 0, n)
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(l.slice(0, n), i)
        expect(verifyInclusionPath(l[i]!, i, n, path, root)).toBe(true)
      }
    }
  })

  it('error: a path fails for another leaf, index, root, a changed or missing sibling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), (n, r) => {
        const l = leaves(n)
        const i = r % n
        const root = subtreeRoot(l)
        const path = inclusionPath(l, i)
        expect(verifyInclusionPath(l[i]!, i, n, path, root)).toBe(true)
        expect(verifyInclusionPath(l[(i + 1) % n]!, i, n, path, root)).toBe(false)
        expect(verifyInclusionPath(l[i]!, (i + 1) % n, n, path, root)).toBe(false)
        expect(verifyInclusionPath(l[i]!, i, n, path, leafHash(Uint8Array.of(9)))).toBe(false)
        expect(verifyInclusionPath(l[i]!, n, n, path, root)).toBe(false)
        if (path.length > 0) {
          const bad = path.map((p) => p.slice())
          bad[0]![0]! ^= 1
          expect(verifyInclusionPath(l[i]!, i, n, bad, root)).toBe(false)
          expect(verifyInclusionPath(l[i]!, i, n, path.slice(1), root)).toBe(false)
        }
      }),
      { numRuns: 60 },
    )
  })
})

describe('random ids', () => {
  it('randomHex gives fresh lowercase hex of the asked length', async () => {
    const { randomHex } = await import('../../src/invoke/_randomHex.js')
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const h = randomHex(8)
      expect(h).toMatch(/^[0-9a-f]{16}$/)
      seen.add(h)
    }
    expect(seen.size).toBe(2000)
  })
})
