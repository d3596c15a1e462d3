import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RegistryComponents, RegistryFactory } from '../components.js'
import { isMeshError } from '../errors/base.js'
import { createMesh } from '../mesh.js'
import { type EncodedRecord, signRecord } from '../record/signRecord.js'
import { registryComponents, type StandaloneComponents } from '../registry/registryComponents.js'
import type { Registry } from '../registry/types.js'
import { generateSigner, type LocalSigner } from '../trust/signer.js'
import { conformanceDraft } from './_conformanceDraft.js'

/** Namespaces the suite publishes in; its key owns them in the components' trust. */
export const CONFORMANCE_NAMESPACES = ['acme.com', 'beta.org', 'image-processing'] as const

export interface RegistryConformanceInit {
  /** Names the implementation in test titles. */
  name: string
  /**
   * A fresh, empty registry for one test: made from `components` (whose trust owns
   * {@link CONFORMANCE_NAMESPACES}), or a factory the suite calls with them. The suite starts it.
   */
  setup(components: RegistryComponents): Promise<Registry | RegistryFactory>
  /** Ends what `setup` made (after the suite has stopped the registry). */
  teardown?(registry: Registry): Promise<void>
  /** Whether the registry implements `watch`; the suite checks it does exactly as declared. */
  watch: boolean
  /**
   * For a registry that does not take publishes (a read-only mirror): puts signed records where the
   * registry reads them. The suite then checks that `publish` is refused with a MeshError.
   */
  readOnly?: { seed(registry: Registry, records: readonly EncodedRecord[]): Promise<void> }
  /**
   * Waits until what was just published or seeded is visible to `lookup` and `list` (an eventually
   * consistent registry: IPNS propagation, block confirmations). Called after every write.
   */
  settle?(registry: Registry): Promise<void>
}

/** Signs a conformance record for `name` with the given seq and optional changes. */
export async function conformanceRecord(
  signer: LocalSigner,
  name: string,
  seq: number,
  description?: string,
): Promise<EncodedRecord> {
  return signRecord(conformanceDraft(name, seq, description), signer)
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
 * The contract every `Registry` must meet (libp2p interface-compliance style), each test on a fresh
 * registry. Call it from a vitest file with the implementation's setup.
 *
 * @example
 * ```ts
 * import { runRegistryConformance } from 'function-mesh/testing'
 * runRegistryConformance({ name: 'myRegistry', watch: true, setup: async () => myRegistry({ dir }) })
 * ```
 */
export function runRegistryConformance(init: RegistryConformanceInit): void {
  describe(`Registry conformance: ${init.name}`, () => {
    let registry: Registry
    let signer: LocalSigner
    let components: StandaloneComponents

    /** Publishes (or seeds, when read-only) and waits until the registry shows it. */
    const put = async (...records: EncodedRecord[]) => {
      if (init.readOnly !== undefined) await init.readOnly.seed(registry, records)
      else for (const record of records) await registry.publish(record)
      await init.settle?.(registry)
    }
    const read = async (name: string) => {
      const entry = await registry.lookup(name)
      expect(entry, `${name} should be in the registry`).toBeDefined()
      return components.verifier.verify(entry!.bytes, { expectName: name })
    }

    beforeEach(async () => {
      signer = await generateSigner()
      components = registryComponents({
        trust: { owners: Object.fromEntries(CONFORMANCE_NAMESPACES.map((ns) => [ns, [signer.id]])) },
      })
      const made = await init.setup(components)
      registry = typeof made === 'function' ? await made(components) : made
      await registry.start?.()
    })
    afterEach(async () => {
      await registry.stop?.()
      await init.teardown?.(registry)
      await components.close()
    })

    it('has a non-empty id', () => {
      expect(typeof registry.id).toBe('string')
      expect(registry.id.length).toBeGreaterThan(0)
    })

    it('answers undefined for a name it does not hold', async () => {
      expect(await registry.lookup('acme.com/nothing/here')).toBeUndefined()
    })

    it('returns a stored record that verifies to the same id', async () => {
      const record = await conformanceRecord(signer, 'acme.com/image/sharpen', 1)
      await put(record)
      const verified = await read('acme.com/image/sharpen')
      expect(verified.id).toBe(record.id)
      expect(verified.record.seq).toBe(1)
    })

    it('replaces a record with a higher seq', async () => {
      await put(await conformanceRecord(signer, 'acme.com/image/resize', 1))
      const newer = await conformanceRecord(signer, 'acme.com/image/resize', 2, 'v2')
      await put(newer)
      const verified = await read('acme.com/image/resize')
      expect(verified.id).toBe(newer.id)
      expect(verified.record.description).toBe('v2')
    })

    it('lists names by glob: * within a segment, ** across', async () => {
      const names = [
        'acme.com/image/blur',
        'acme.com/image/sharpen',
        'acme.com/text/nlp/sentiment',
        'image-processing/sharpen',
      ]
      await put(...(await Promise.all(names.map((n) => conformanceRecord(signer, n, 1)))))
      expect(await collect(registry.list('acme.com/image/*'))).toEqual([
        'acme.com/image/blur',
        'acme.com/image/sharpen',
      ])
      expect(await collect(registry.list('acme.com/**'))).toEqual([
        'acme.com/image/blur',
        'acme.com/image/sharpen',
        'acme.com/text/nlp/sentiment',
      ])
      expect(await collect(registry.list('acme.com/*'))).toEqual([])
      expect(await collect(registry.list('*/sharpen'))).toEqual(['image-processing/sharpen'])
      expect(await collect(registry.list('{acme.com,image-processing}/*/sharpen'))).toEqual([
        'acme.com/image/sharpen',
      ])
      expect(await collect(registry.list('nobody.net/**'))).toEqual([])
    })

    it('error: refuses a malformed list pattern with E_PATTERN_INVALID', async () => {
      await expectCode(collect(registry.list('acme.com/<script>')), 'E_PATTERN_INVALID')
    })

    it('error: lookup and list reject with E_ABORTED when the signal has fired', async () => {
      const signal = AbortSignal.abort()
      await expectCode(registry.lookup('acme.com/image/sharpen', { signal }), 'E_ABORTED')
      await expectCode(collect(registry.list('acme.com/**', { signal })), 'E_ABORTED')
    })

    it('serves a mesh: resolve ^1.2 through this registry', async () => {
      await put(await conformanceRecord(signer, 'acme.com/image/sharpen', 1))
      const mesh = await createMesh({
        registries: [registry],
        trust: { owners: { 'acme.com': [signer.id] } },
      })
      try {
        const result = await mesh.resolve('acme.com/image/sharpen@^1.2')
        expect(result.version).toBe('1.4.1')
        expect(result.source).toMatchObject({ kind: 'registry', registry: registry.id })
      } finally {
        // The mesh starts and stops the registry; start and stop must be idempotent (the suite
        // stops it once more after this test).
        await mesh.close()
      }
    })

    if (init.watch) {
      it('reports stored names through watch', async () => {
        expect(typeof registry.watch).toBe('function')
        const controller = new AbortController()
        const changes = registry.watch!({ signal: controller.signal })[Symbol.asyncIterator]()
        const seen: string[] = []
        // The first next() subscribes before the write below, so the change cannot be missed.
        const watching = (async () => {
          for (let next = await changes.next(); !next.done; next = await changes.next()) {
            seen.push(...next.value.names)
            if (seen.includes('acme.com/image/watched')) return
          }
        })()
        await put(await conformanceRecord(signer, 'acme.com/image/watched', 1))
        await watching
        controller.abort()
        expect(seen).toContain('acme.com/image/watched')
      })
    } else {
      it('declares no watch and has none', () => {
        expect(registry.watch).toBeUndefined()
      })
    }

    if (init.readOnly !== undefined) {
      it('error: a read-only registry refuses publish with a MeshError', async () => {
        const err = await registry.publish(await conformanceRecord(signer, 'acme.com/image/ro', 1)).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(isMeshError(err), `expected a MeshError, got ${String(err)}`).toBe(true)
        expect(await registry.lookup('acme.com/image/ro')).toBeUndefined()
      })
      return
    }

    it('publishes and returns a receipt naming the registry', async () => {
      const receipt = await registry.publish(await conformanceRecord(signer, 'acme.com/image/receipt', 1))
      expect(receipt.registry).toBe(registry.id)
    })

    it('accepts the very same record again as a no-op', async () => {
      const record = await conformanceRecord(signer, 'acme.com/image/blur', 3)
      await registry.publish(record)
      await registry.publish(record)
      await init.settle?.(registry)
      expect((await read('acme.com/image/blur')).id).toBe(record.id)
    })

    it('error: refuses a record whose seq is not above the stored one (lower, or equal with other bytes)', async () => {
      await put(await conformanceRecord(signer, 'acme.com/image/crop', 5))
      await expectCode(
        registry.publish(await conformanceRecord(signer, 'acme.com/image/crop', 4)),
        'E_PUBLISH_CONFLICT',
      )
      await expectCode(
        registry.publish(await conformanceRecord(signer, 'acme.com/image/crop', 5, 'other')),
        'E_PUBLISH_CONFLICT',
      )
      expect((await read('acme.com/image/crop')).record.seq).toBe(5)
    })

    it('keeps every record when distinct names are published concurrently', async () => {
      const names = Array.from({ length: 8 }, (_, i) => `beta.org/batch/fn-${i}`)
      const records = await Promise.all(names.map((n) => conformanceRecord(signer, n, 1)))
      await Promise.all(records.map((r) => registry.publish(r)))
      await init.settle?.(registry)
      for (const record of records) expect((await read(record.record.name)).id).toBe(record.id)
    })

    it('error: publish rejects with E_ABORTED when the signal has fired, and stores nothing', async () => {
      const signal = AbortSignal.abort()
      await expectCode(
        registry.publish(await conformanceRecord(signer, 'acme.com/image/aborted', 1), { signal }),
        'E_ABORTED',
      )
      await init.settle?.(registry)
      expect(await registry.lookup('acme.com/image/aborted')).toBeUndefined()
    })
  })
}
