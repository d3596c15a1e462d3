import { describe, expect, it } from 'vitest'
import { rateLimiter } from '../../node/_rateLimiter.js'
import { bucketOf, RecordStore, SYNC_BUCKETS } from '../../node/recordStore.js'
import { fakeClock } from '../_helpers/clock.js'

const record = (name: string, seq: number, expiresAt = Number.MAX_SAFE_INTEGER) => ({
  name,
  seq,
  id: `id-${name}-${seq}`,
  bytes: new Uint8Array([seq]),
  expiresAt,
})

describe('peer node parts', () => {
  it('buckets names stably, over every bucket', () => {
    expect(bucketOf('acme.com/image/sharpen')).toBe(bucketOf('acme.com/image/sharpen'))
    const used = new Set(Array.from({ length: 5000 }, (_, i) => bucketOf(`ns.example/fn-${i}`)))
    expect(used.size).toBe(SYNC_BUCKETS)
  })

  it('the summary changes only in the bucket of a changed name, and equal stores have equal summaries', () => {
    const a = new RecordStore(100)
    const b = new RecordStore(100)
    for (let i = 0; i < 50; i++) {
      a.put(record(`ns.example/fn-${i}`, 1), 0)
      b.put(record(`ns.example/fn-${49 - i}`, 1), 0)
    }
    expect(a.summary()).toEqual(b.summary())
    const before = a.summary()
    a.put(record('ns.example/fn-7', 2), 0)
    const after = a.summary()
    const changed = after.flatMap((d, i) => (d === before[i] ? [] : [i]))
    expect(changed).toEqual([bucketOf('ns.example/fn-7')])
    expect(a.entries(bucketOf('ns.example/fn-7'))).toContainEqual(['ns.example/fn-7', 2])
    expect(new RecordStore(1).summary().every((d) => d === '')).toBe(true)
  })

  it('a full store makes room with an expired record, else refuses new names but still updates held ones', () => {
    const store = new RecordStore(2)
    expect(store.put(record('a.example/x', 1, 10), 0)).toBe(true)
    expect(store.put(record('a.example/y', 1), 0)).toBe(true)
    expect(store.put(record('a.example/z', 1), 5)).toBe(false)
    expect(store.put(record('a.example/y', 2), 5)).toBe(true)
    expect(store.put(record('a.example/z', 1), 20)).toBe(true)
    expect([...store.names()].sort()).toEqual(['a.example/y', 'a.example/z'])
  })

  it('rate limits per peer with a token bucket that refills on the clock', () => {
    const clock = fakeClock(0)
    const limiter = rateLimiter({ perSecond: 2, burst: 4, clock })
    const taken = Array.from({ length: 6 }, () => limiter.take('p1'))
    expect(taken).toEqual([true, true, true, true, false, false])
    expect(limiter.take('p2')).toBe(true)
    clock.advance(500)
    expect(limiter.take('p1')).toBe(true)
    expect(limiter.take('p1')).toBe(false)
  })
})
