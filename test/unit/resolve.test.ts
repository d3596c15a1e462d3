import fc from 'fast-check'
import semver from 'semver'
import { beforeEach, describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { parseFunctionName } from '../../src/name.js'
import type { FunctionRecord } from '../../src/record/schema.js'
import { selectVersion } from '../../src/resolve/selectVersion.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type FakeClock, fakeClock } from '../_helpers/clock.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { type ControlledRegistry, controlledRegistry } from '../_helpers/controlledRegistry.js'
import { sampleDraft, signed } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

describe('version selection', () => {
  const record = {
    name: 'acme.com/image/sharpen',
    latestVersion: '1.4.1',
    versions: sampleDraft().versions,
  } as unknown as FunctionRecord
  const pick = (sel: string, all = false) =>
    selectVersion(record, parseFunctionName(`acme.com/image/sharpen${sel}`).selector, all)

  it('resolves ^1.2 to the newest non-deprecated 1.x', () => expect(pick('@^1.2')).toBe('1.4.1'))
  it('resolves latest to latestVersion', () => expect(pick('')).toBe('1.4.1'))
  it('skips deprecated versions for ranges', () =>
    expect(() => pick('@~1.0.0')).toThrow(expect.objectContaining({ code: 'E_NO_MATCHING_VERSION' })))
  it('returns a deprecated version when asked for exactly', () => expect(pick('@1.0.0')).toBe('1.0.0'))
  it('returns a deprecated version with includeDeprecated', () => expect(pick('@~1.0.0', true)).toBe('1.0.0'))
  it('leaves prereleases out of ranges unless the range names one', () => {
    expect(pick('@>=1')).toBe('1.4.1')
    expect(pick('@^2.0.0-beta.0')).toBe('2.0.0-beta.1')
  })
  it('error: names skipped versions when nothing matches', () => {
    expect(() => pick('@~1.0.0')).toThrow(
      expect.objectContaining({
        code: 'E_NO_MATCHING_VERSION',
        details: expect.objectContaining({ skippedDeprecatedOrYanked: ['1.0.0'] }),
      }),
    )
  })

  it('agrees with semver.maxSatisfying over the eligible versions (property)', () => {
    const version = fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4)).map(([a, b, c]) => `${a}.${b}.${c}`)
    const range = fc.oneof(
      version.map((v) => `^${v}`),
      version.map((v) => `~${v}`),
      fc.tuple(fc.nat(4), fc.nat(4)).map(([a, b]) => `>=${a} <${a + b}`),
      fc.nat(4).map((a) => `${a}.x`),
    )
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(version, fc.boolean(), fc.boolean()), {
          selector: (v) => v[0],
          minLength: 1,
          maxLength: 12,
        }),
        range,
        (versions, r) => {
          const rec = {
            name: 'a/b',
            versions: Object.fromEntries(
              versions.map(([v, deprecated, yanked]) => [v, { deprecated, yanked }]),
            ),
          } as unknown as FunctionRecord
          const eligible = versions.filter(([, d, y]) => !d && !y).map(([v]) => v)
          const expected = semver.maxSatisfying(eligible, r)
          const sel = parseFunctionName(`a/b@${r}`).selector
          if (expected === null) expect(() => selectVersion(rec, sel)).toThrow(MeshError)
          else expect(selectVersion(rec, sel)).toBe(expected)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('mesh.resolve', () => {
  let signer: LocalSigner
  let clock: FakeClock
  let a: ControlledRegistry
  let b: ControlledRegistry
  let mesh: Mesh

  beforeEach(async () => {
    signer = await generateSigner()
    clock = fakeClock(Date.now())
    a = controlledRegistry('a')
    b = controlledRegistry('b')
    mesh = closeAfter(
      await createMesh({
        registries: [a, b],
        trust: { owners: { 'acme.com': [signer.id] } },
        clock,
        lookupTimeoutMs: 200,
        cache: { maxTtlSeconds: 60, negativeTtlSeconds: 10, staleIfErrorSeconds: 600 },
      }),
    )
  })

  it('returns a registry record deep-frozen, first answer and cached answer alike', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    for (const found of [
      await mesh.resolve('acme.com/image/sharpen@^1.2'),
      await mesh.resolve('acme.com/image/sharpen@^1.2'),
    ]) {
      expect(Object.isFrozen(found.record)).toBe(true)
      expect(Object.isFrozen(found.descriptor)).toBe(true)
      expect(Object.isFrozen(found.providers[0])).toBe(true)
      expect(() => {
        ;(found.providers[0] as { endpoint: string }).endpoint = 'http://elsewhere'
      }).toThrow(TypeError)
    }
  })

  it('answers from the registry first, then from the cache, saying so', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    const first = await mesh.resolve('acme.com/image/sharpen@^1.2')
    expect(first).toMatchObject({ version: '1.4.1', source: { kind: 'registry', registry: 'a' } })
    expect(first.verified).toMatchObject({
      method: 'signature',
      keyId: signer.id,
      trustSource: 'pinned',
      seq: 1,
    })
    expect(first.report?.map((r) => r.status)).toEqual(['found', 'not-found'])
    const second = await mesh.resolve('acme.com/image/sharpen@^1.2')
    expect(second.source).toEqual({ kind: 'cache', registry: 'a', stale: false })
    expect(a.lookups).toBe(1)
  })

  it('answers from the local marketplace before the cache and registries', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    mesh.marketplace.register({ name: 'acme.com/image/sharpen', version: '1.5.0' }, () => ({ image: 'x' }))
    const r = await mesh.resolve('acme.com/image/sharpen@^1.2')
    expect(r).toMatchObject({
      version: '1.5.0',
      source: { kind: 'marketplace' },
      verified: { method: 'local' },
    })
    expect(r.providers[0]?.endpoint).toBe('local:acme.com/image/sharpen@1.5.0')
    expect(a.lookups).toBe(0)
    // A selector the local versions do not satisfy falls through to the registries.
    expect((await mesh.resolve('acme.com/image/sharpen@1.2.0')).source.kind).toBe('registry')
  })

  it('refetches after the TTL (capped by config) runs out', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    await mesh.resolve('acme.com/image/sharpen')
    clock.advance(59_000)
    await mesh.resolve('acme.com/image/sharpen')
    expect(a.lookups).toBe(1)
    clock.advance(2_000) // record ttl 300 s, capped to 60 s
    expect((await mesh.resolve('acme.com/image/sharpen')).source.kind).toBe('registry')
    expect(a.lookups).toBe(2)
  })

  it('caches "not found" for the negative TTL', async () => {
    expect((await rejection(mesh.resolve('acme.com/image/missing'))).code).toBe('E_FUNCTION_NOT_FOUND')
    expect((await rejection(mesh.resolve('acme.com/image/missing'))).code).toBe('E_FUNCTION_NOT_FOUND')
    expect(a.lookups).toBe(1)
    clock.advance(10_001)
    await rejection(mesh.resolve('acme.com/image/missing'))
    expect(a.lookups).toBe(2)
  })

  it('does not cache "not found" when a registry failed', async () => {
    b.mode = 'fail'
    const err = await rejection(mesh.resolve('acme.com/image/missing'))
    expect(err.code).toBe('E_FUNCTION_NOT_FOUND')
    await rejection(mesh.resolve('acme.com/image/missing'))
    expect(a.lookups).toBe(2)
  })

  it('serves the last good answer when every registry fails, within the stale window, and says so', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    await mesh.resolve('acme.com/image/sharpen')
    a.mode = 'fail'
    b.mode = 'fail'
    clock.advance(61_000)
    const stale = await mesh.resolve('acme.com/image/sharpen@^1.2')
    expect(stale.source).toMatchObject({
      kind: 'cache',
      stale: true,
      registry: 'a',
      error: { code: 'E_REGISTRIES_UNAVAILABLE' },
    })
    expect(stale.version).toBe('1.4.1')
    clock.advance(600_000)
    expect((await rejection(mesh.resolve('acme.com/image/sharpen'))).code).toBe('E_REGISTRIES_UNAVAILABLE')
  })

  it('shares one in-flight lookup among concurrent resolves of a name', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    const gate = Promise.withResolvers<void>()
    a.gate = gate.promise
    const all = Promise.all([
      mesh.resolve('acme.com/image/sharpen@^1.2'),
      mesh.resolve('acme.com/image/sharpen@1.2.0'),
      mesh.resolve('acme.com/image/sharpen'),
    ])
    gate.resolve()
    const results = await all
    expect(results.map((r) => r.version)).toEqual(['1.4.1', '1.2.0', '1.4.1'])
    expect(a.lookups).toBe(1)
  })

  it('lets one caller abort without cancelling the others', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    const gate = Promise.withResolvers<void>()
    a.gate = gate.promise
    const controller = new AbortController()
    const aborted = mesh.resolve('acme.com/image/sharpen', { signal: controller.signal })
    const kept = mesh.resolve('acme.com/image/sharpen')
    controller.abort()
    expect((await rejection(aborted)).code).toBe('E_ABORTED')
    gate.resolve()
    expect((await kept).version).toBe('1.4.1')
  })

  it('skips a registry that hangs past the deadline and reports it', async () => {
    a.mode = 'hang'
    await b.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    const resolving = mesh.resolve('acme.com/image/sharpen')
    await clock.advanceAsync(200)
    const r = await resolving
    expect(r.source).toMatchObject({ kind: 'registry', registry: 'b' })
    expect(r.report).toEqual([
      { registry: 'a', status: 'timeout', error: { code: 'E_TIMEOUT', message: 'no answer within 200 ms' } },
      expect.objectContaining({ registry: 'b', status: 'found', seq: 1 }),
    ])
  })

  it('settles conflicts by highest seq, then registry priority', async () => {
    const one = await signed(signer, 'acme.com/image/sharpen', 1)
    const two = await signed(signer, 'acme.com/image/sharpen', 2, { description: 'newer' })
    await a.publish(one)
    await b.publish(two)
    expect((await mesh.resolve('acme.com/image/sharpen')).record.description).toBe('newer')
    const tieA = await signed(signer, 'acme.com/image/blur', 4, { description: 'from a' })
    const tieB = await signed(signer, 'acme.com/image/blur', 4, { description: 'from b' })
    await a.publish(tieA)
    await b.publish(tieB)
    expect((await mesh.resolve('acme.com/image/blur')).source).toMatchObject({ registry: 'a' })
  })

  it('prefers a valid record over a higher-seq forged one, and reports the forgery', async () => {
    const mallory = await generateSigner()
    await a.publish(await signed(mallory, 'acme.com/image/sharpen', 99))
    await b.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    const r = await mesh.resolve('acme.com/image/sharpen')
    expect(r.source).toMatchObject({ registry: 'b' })
    expect(r.report?.[0]).toMatchObject({
      registry: 'a',
      status: 'invalid',
      error: { code: 'E_SIGNER_NOT_OWNER' },
    })
  })

  it('error: refuses a rollback to a lower seq than already accepted, even by one', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 5))
    await mesh.resolve('acme.com/image/sharpen')
    a.put('acme.com/image/sharpen', (await signed(signer, 'acme.com/image/sharpen', 4)).bytes)
    mesh.cache.invalidate('acme.com/image/sharpen')
    const err = await rejection(mesh.resolve('acme.com/image/sharpen'))
    expect(err.code).toBe('E_NO_VALID_RECORD')
    expect((err.cause as MeshError).code).toBe('E_SEQ_ROLLBACK')
    expect((err.cause as MeshError).details).toMatchObject({ seq: 4, highest: 5 })
  })

  it('accepts the highest seq seen again (the boundary is not a rollback), with other bytes too', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 5))
    await mesh.resolve('acme.com/image/sharpen')
    const again = await signed(signer, 'acme.com/image/sharpen', 5, { description: 'same seq, other bytes' })
    a.put('acme.com/image/sharpen', again.bytes)
    mesh.cache.invalidate('acme.com/image/sharpen')
    const r = await mesh.resolve('acme.com/image/sharpen')
    expect(r.record.seq).toBe(5)
    expect(r.recordId).toBe(again.id)
  })

  it('error: E_NO_VALID_RECORD names the first refusal as its cause', async () => {
    a.put('acme.com/image/sharpen', new TextEncoder().encode('{"garbage": true}'))
    const err = await rejection(mesh.resolve('acme.com/image/sharpen'))
    expect(err.code).toBe('E_NO_VALID_RECORD')
    expect((err.cause as MeshError).code).toBe('E_RECORD_SCHEMA')
  })

  it('error: a malformed name is refused before any lookup', async () => {
    expect((await rejection(mesh.resolve('Not A Name'))).code).toBe('E_NAME_INVALID')
    expect(a.lookups).toBe(0)
  })

  it('invalidates by name and by namespace', async () => {
    await a.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    await a.publish(await signed(signer, 'acme.com/image/blur', 1))
    await mesh.resolve('acme.com/image/sharpen')
    await mesh.resolve('acme.com/image/blur')
    expect(mesh.cache.invalidate('acme.com/image/sharpen')).toBe(true)
    expect(mesh.cache.invalidateNamespace('acme.com')).toBe(1)
    expect(mesh.cache.size).toBe(0)
  })

  it('drops a name from the cache when a watching registry reports it changed', async () => {
    const { memoryRegistry } = await import('../../src/registry/memoryRegistry.js')
    const watched = memoryRegistry({ id: 'watched' })
    const m = closeAfter(
      await createMesh({
        registries: [watched],
        trust: { owners: { 'acme.com': [signer.id] } },
        clock,
      }),
    )
    await watched.publish(await signed(signer, 'acme.com/image/sharpen', 1))
    expect((await m.resolve('acme.com/image/sharpen')).record.seq).toBe(1)
    await watched.publish(await signed(signer, 'acme.com/image/sharpen', 2))
    for (let i = 0; i < 100 && m.cache.size > 0; i++) await new Promise((r) => setImmediate(r))
    expect((await m.resolve('acme.com/image/sharpen')).record.seq).toBe(2)
    await m.close()
  })
})

describe('conflict resolution is deterministic (property)', () => {
  it('picks the same winner whatever order registries answer in', async () => {
    const signer = await generateSigner()
    const pool = await Promise.all(
      [1, 2, 3, 4].map((seq) => signed(signer, 'acme.com/x/y', seq, { description: `s${seq}` })),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.nat(3), { nil: undefined }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(5), { minLength: 5, maxLength: 5 }),
        async (holdings, delays) => {
          const registries = holdings.map((_, i) => controlledRegistry(`r${i}`))
          holdings.forEach((h, i) => {
            if (h !== undefined) registries[i]!.put('acme.com/x/y', pool[h]!.bytes)
          })
          const gates = registries.map((r, i) => {
            const g = Promise.withResolvers<void>()
            r.gate = g.promise
            setTimeout(g.resolve, delays[i]!)
            return g
          })
          const mesh = closeAfter(
            await createMesh({ registries, trust: { owners: { 'acme.com': [signer.id] } } }),
          )
          const present = holdings.filter((h) => h !== undefined)
          if (present.length === 0) {
            await expect(mesh.resolve('acme.com/x/y')).rejects.toMatchObject({ code: 'E_FUNCTION_NOT_FOUND' })
            return
          }
          const maxSeq = Math.max(...present.map((h) => h! + 1))
          const winner = holdings.findIndex((h) => h !== undefined && h + 1 === maxSeq)
          const r = await mesh.resolve('acme.com/x/y')
          expect(r.record.seq).toBe(maxSeq)
          expect(r.source).toMatchObject({ registry: `r${winner}` })
          for (const g of gates) g.resolve()
        },
      ),
      { numRuns: 60 },
    )
  })
})
