import { beforeEach, describe, expect, it } from 'vitest'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { type ControlledRegistry, controlledRegistry } from '../_helpers/controlledRegistry.js'
import { signed } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

// The warm path answers a query text it answered before from the answer it kept, without a cache
// read. These check that a kept answer never outlives the cache entry it came from.
describe('warm resolve', () => {
  let signer: LocalSigner
  let clock: FakeClock
  let reg: ControlledRegistry
  let mesh: Mesh
  const NAME = 'acme.com/image/sharpen'

  const open = async (max?: number) =>
    closeAfter(
      await createMesh({
        registries: [reg],
        trust: { owners: { 'acme.com': [signer.id] } },
        clock,
        cache: { maxTtlSeconds: 60, ...(max === undefined ? {} : { max }) },
      }),
    )

  beforeEach(async () => {
    signer = await generateSigner()
    clock = fakeClock(Date.now())
    reg = controlledRegistry('reg')
    mesh = await open()
  })

  it('serves a query answered before from the cache, with the same answer', async () => {
    await reg.publish(await signed(signer, NAME, 1))
    await mesh.resolve(`${NAME}@^1.2`)
    const second = await mesh.resolve(`${NAME}@^1.2`)
    const third = await mesh.resolve(`${NAME}@^1.2`)
    expect(third).toBe(second)
    expect(third.source).toEqual({ kind: 'cache', registry: 'reg', stale: false })
    expect(reg.lookups).toBe(1)
  })

  it('stops serving a kept answer once its name is invalidated', async () => {
    await reg.publish(await signed(signer, NAME, 1))
    await mesh.resolve(NAME)
    await mesh.resolve(NAME)
    await reg.publish(await signed(signer, NAME, 2))
    mesh.cache.invalidate(NAME)
    expect((await mesh.resolve(NAME)).record.seq).toBe(2)
    expect(reg.lookups).toBe(2)
  })

  it('stops serving a kept answer once a refresh replaces its entry', async () => {
    await reg.publish(await signed(signer, NAME, 1))
    await mesh.resolve(NAME)
    await mesh.resolve(NAME)
    await reg.publish(await signed(signer, NAME, 2))
    expect((await mesh.resolve(NAME, { cache: 'refresh' })).record.seq).toBe(2)
    const after = await mesh.resolve(NAME)
    expect(after.record.seq).toBe(2)
    expect(after.source.kind).toBe('cache')
  })

  it('stops serving a kept answer at the end of its TTL', async () => {
    await reg.publish(await signed(signer, NAME, 1))
    await mesh.resolve(NAME)
    await mesh.resolve(NAME)
    clock.advance(60_001)
    expect((await mesh.resolve(NAME)).source.kind).toBe('registry')
    expect(reg.lookups).toBe(2)
  })

  it('keeps answers with and without deprecated versions apart', async () => {
    await reg.publish(await signed(signer, NAME, 1))
    expect((await mesh.resolve(`${NAME}@~1.0.0`, { includeDeprecated: true })).version).toBe('1.0.0')
    expect((await mesh.resolve(`${NAME}@~1.0.0`, { includeDeprecated: true })).version).toBe('1.0.0')
    expect((await rejection(mesh.resolve(`${NAME}@~1.0.0`))).code).toBe('E_NO_MATCHING_VERSION')
  })

  it('keeps a name answered only warm in its place in the LRU order', async () => {
    const small = await open(2)
    const [a, b, c] = ['acme.com/x/a', 'acme.com/x/b', 'acme.com/x/c']
    for (const n of [a, b, c]) await reg.publish(await signed(signer, n, 1))
    await small.resolve(a)
    await small.resolve(a)
    await small.resolve(b)
    for (let i = 0; i < 64; i++) await small.resolve(a)
    await small.resolve(c) // evicts the least recently used: b, not a
    const before = reg.lookups
    expect((await small.resolve(a)).source.kind).toBe('cache')
    expect(reg.lookups).toBe(before)
    expect((await small.resolve(b)).source.kind).toBe('registry')
  })
})
