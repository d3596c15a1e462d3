import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh } from '../../src/mesh.js'
import type { RecordDraft } from '../../src/record/schema.js'
import { type EncodedRecord, signRecord } from '../../src/record/signRecord.js'
import type { Registry } from '../../src/registry/types.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { sampleDraft } from '../_helpers/records.js'

export interface RegistryConformanceInit {
  /** Names the implementation in test titles. */
  name: string
  /** A fresh, empty, started registry. Its start() and stop() must be idempotent. */
  setup(): Promise<Registry>
  teardown(registry: Registry): Promise<void>
}

/** Signs a sample record with the given envelope. */
export async function signed(
  signer: LocalSigner,
  name: string,
  seq: number,
  extra: Partial<RecordDraft> = {},
): Promise<EncodedRecord> {
  const issuedAt = new Date(Date.now() - 60_000).toISOString()
  return signRecord(
    {
      ...sampleDraft(name, extra),
      namespace: name.split('/')[0]!,
      seq,
      issuedAt,
      ttlSeconds: 300,
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      signatures: [],
    },
    signer,
  )
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = []
  for await (const item of iterable) out.push(item)
  return out.sort()
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isMeshError(err), `expected a MeshError ${code}, got ${String(err)}`).toBe(true)
  expect((err as { code: string }).code).toBe(code)
}

/**
 * The contract every `Registry` must meet (libp2p interface-compliance style). Each implementation's
 * test file calls this with its own setup.
 */
export function runRegistryConformance(init: RegistryConformanceInit): void {
  describe(`Registry conformance: ${init.name}`, () => {
    let registry: Registry
    let signer: LocalSigner
    let verifier: RecordVerifier

    beforeAll(async () => {
      signer = await generateSigner()
      verifier = new RecordVerifier({
        trust: [
          pinnedTrust({ 'acme.com': [signer.id], 'beta.org': [signer.id], 'image-processing': [signer.id] }),
        ],
      })
      registry = await init.setup()
    })
    afterAll(async () => {
      await init.teardown(registry)
    })

    it('has a non-empty id', () => {
      expect(typeof registry.id).toBe('string')
      expect(registry.id.length).toBeGreaterThan(0)
    })

    it('answers undefined for a name it does not hold', async () => {
      expect(await registry.lookup('acme.com/nothing/here')).toBeUndefined()
    })

    it('returns a published record that verifies to the same id', async () => {
      const record = await signed(signer, 'acme.com/image/sharpen', 1)
      const receipt = await registry.publish(record)
      expect(receipt.registry).toBe(registry.id)
      const entry = await registry.lookup('acme.com/image/sharpen')
      expect(entry).toBeDefined()
      const verified = await verifier.verify(entry!.bytes, { expectName: 'acme.com/image/sharpen' })
      expect(verified.id).toBe(record.id)
      expect(verified.record.seq).toBe(1)
    })

    it('accepts the very same record again as a no-op', async () => {
      const record = await signed(signer, 'acme.com/image/blur', 3)
      await registry.publish(record)
      await registry.publish(record)
      const verified = await verifier.verify((await registry.lookup('acme.com/image/blur'))!.bytes)
      expect(verified.id).toBe(record.id)
    })

    it('replaces a record with a higher seq', async () => {
      await registry.publish(await signed(signer, 'acme.com/image/resize', 1))
      const newer = await signed(signer, 'acme.com/image/resize', 2, { description: 'v2' })
      await registry.publish(newer)
      const verified = await verifier.verify((await registry.lookup('acme.com/image/resize'))!.bytes)
      expect(verified.id).toBe(newer.id)
      expect(verified.record.description).toBe('v2')
    })

    it('error: refuses a record whose seq is not above the stored one', async () => {
      await registry.publish(await signed(signer, 'acme.com/image/crop', 5))
      await expectCode(registry.publish(await signed(signer, 'acme.com/image/crop', 4)), 'E_PUBLISH_CONFLICT')
      await expectCode(
        registry.publish(await signed(signer, 'acme.com/image/crop', 5, { description: 'other' })),
        'E_PUBLISH_CONFLICT',
      )
      const verified = await verifier.verify((await registry.lookup('acme.com/image/crop'))!.bytes)
      expect(verified.record.seq).toBe(5)
    })

    it('keeps every record when distinct names are published concurrently', async () => {
      const names = Array.from({ length: 8 }, (_, i) => `beta.org/batch/fn-${i}`)
      const records = await Promise.all(names.map((n) => signed(signer, n, 1)))
      await Promise.all(records.map((r) => registry.publish(r)))
      for (const record of records) {
        const entry = await registry.lookup(record.record.name)
        expect((await verifier.verify(entry!.bytes)).id).toBe(record.id)
      }
    })

    it('lists names by glob: * within a segment, ** across', async () => {
      await registry.publish(await signed(signer, 'image-processing/sharpen', 1))
      await registry.publish(await signed(signer, 'acme.com/text/nlp/sentiment', 1))
      expect(await collect(registry.list('acme.com/image/*'))).toEqual([
        'acme.com/image/blur',
        'acme.com/image/crop',
        'acme.com/image/resize',
        'acme.com/image/sharpen',
      ])
      expect(await collect(registry.list('acme.com/**'))).toContain('acme.com/text/nlp/sentiment')
      expect(await collect(registry.list('acme.com/*'))).toEqual([])
      expect(await collect(registry.list('*/sharpen'))).toEqual(['image-processing/sharpen'])
      expect(await collect(registry.list('{acme.com,image-processing}/*/sharpen'))).toEqual([
        'acme.com/image/sharpen',
      ])
      expect(await collect(registry.list('nobody.net/**'))).toEqual([])
    })

    it('error: refuses a malformed list pattern', async () => {
      await expectCode(collect(registry.list('acme.com/<script>')), 'E_PATTERN_INVALID')
    })

    it('error: rejects with E_ABORTED when the signal has fired', async () => {
      const signal = AbortSignal.abort()
      await expectCode(registry.lookup('acme.com/image/sharpen', { signal }), 'E_ABORTED')
      await expectCode(
        registry.publish(await signed(signer, 'acme.com/image/aborted', 1), { signal }),
        'E_ABORTED',
      )
      await expectCode(collect(registry.list('acme.com/**', { signal })), 'E_ABORTED')
      expect(await registry.lookup('acme.com/image/aborted')).toBeUndefined()
    })

    it('reports published names through watch, when it watches', async () => {
      if (registry.watch === undefined) return
      const controller = new AbortController()
      const seen: string[] = []
      const watching = (async () => {
        for await (const change of registry.watch!({ signal: controller.signal })) {
          seen.push(...change.names)
          if (seen.includes('acme.com/image/watched')) break
        }
      })()
      await new Promise((r) => setTimeout(r, 20))
      await registry.publish(await signed(signer, 'acme.com/image/watched', 1))
      const guard = setTimeout(() => controller.abort(), 20_000)
      await watching.catch(() => undefined)
      clearTimeout(guard)
      controller.abort()
      expect(seen).toContain('acme.com/image/watched')
    })

    it('serves a mesh: resolve ^1.2 through this registry', async () => {
      const mesh = await createMesh({
        registries: [registry],
        trust: { owners: { 'acme.com': [signer.id] } },
      })
      const result = await mesh.resolve('acme.com/image/sharpen@^1.2')
      expect(result.version).toBe('1.4.1')
      expect(result.source).toMatchObject({ kind: 'registry', registry: registry.id })
      // The mesh starts and stops its registries; start and stop must be idempotent (this runs last,
      // and the suite's teardown stops the registry once more).
      await mesh.close()
    })
  })
}
