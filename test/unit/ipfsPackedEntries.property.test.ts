import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import type { IndexEntry } from '../../registries/ipfs/_nameIndex.js'
import { PackedEntries } from '../../registries/ipfs/_packedEntries.js'

// The IPFS name index holds its CIDs as text (STYLE 7a): checked against the Map of CID objects it
// replaces, the reference, over any sequence of writes.

const RAW = 0x55
const JSON_CODEC = 0x0200

const cidOf = (n: number, codec: number, version: 0 | 1) => {
  const digest = sha256.digest(new TextEncoder().encode(String(n))) as Awaited<
    ReturnType<typeof sha256.digest>
  >
  return version === 0 ? CID.createV0(digest as never) : CID.createV1(codec, digest)
}

const write = fc.record({
  name: fc.constantFrom('acme.com/a', 'acme.com/b', 'acme.com/c/d', 'x.example/é', ''),
  n: fc.nat({ max: 20 }),
  codec: fc.constantFrom(RAW, JSON_CODEC),
  v0: fc.boolean(),
  seq: fc.oneof(fc.nat({ max: 10 }), fc.constant(Number.MAX_SAFE_INTEGER)),
})

describe('IPFS name index: CIDs held as text', () => {
  it('reads back what a Map of CID objects holds, after any sequence of writes and clears', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(write, fc.constant('clear' as const)), { maxLength: 30 }), (ops) => {
        const packed = new PackedEntries()
        const reference = new Map<string, IndexEntry>()
        for (const op of ops) {
          if (op === 'clear') {
            packed.clear()
            reference.clear()
            continue
          }
          const cid = cidOf(op.n, op.codec, op.v0 ? 0 : 1)
          const entry = { cid, seq: op.seq, id: `id-${op.n}` }
          packed.set(op.name, entry)
          reference.set(op.name, entry)
        }
        expect(packed.size).toBe(reference.size)
        expect([...packed.keys()]).toEqual([...reference.keys()])
        for (const [name, want] of reference) {
          const got = packed.get(name)!
          expect(packed.has(name)).toBe(true)
          expect(got.cid.equals(want.cid)).toBe(true)
          expect(got.cid.toString()).toBe(want.cid.toString())
          expect(packed.cidText(name)).toBe(want.cid.toString())
          expect({ seq: got.seq, id: got.id }).toEqual({ seq: want.seq, id: want.id })
        }
        expect([...packed].map(([name, e]) => [name, e.cid.toString(), e.seq, e.id])).toEqual(
          [...reference].map(([name, e]) => [name, e.cid.toString(), e.seq, e.id]),
        )
        for (const missing of ['acme.com/zz', 'nope']) {
          expect(packed.has(missing)).toBe(reference.has(missing))
          expect(packed.get(missing)).toBeUndefined()
          expect(packed.cidText(missing)).toBeUndefined()
        }
      }),
      { numRuns: 300 },
    )
  })

  it('hands out a CID of its own on each read: a caller cannot change what the index holds', () => {
    const packed = new PackedEntries()
    const cid = cidOf(1, RAW, 1)
    packed.set('acme.com/a', { cid, seq: 1, id: 'id' })
    const first = packed.get('acme.com/a')!
    first.cid.bytes[5] = (first.cid.bytes[5]! + 1) & 0xff
    expect(packed.get('acme.com/a')!.cid.equals(cid)).toBe(true)
  })
})
