import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { systemClock } from '../../src/clock.js'
import type { RegistryComponents, ServiceComponents } from '../../src/components.js'
import { createMesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { Resolver } from '../../src/resolve/Resolver.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { sampleDraft, signed } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

let root: string
let key: LocalSigner
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-components-'))
  key = await generateSigner()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('registries as components', () => {
  it('gives two Git registries one verifier (and so one verification pool): the mesh’s', async () => {
    const owners = { 'acme.com': [key.id] }
    // Two repositories holding enough records that opening each verifies them as one batch.
    for (const dir of ['one', 'two']) {
      const components = registryComponents({ trust: { owners } })
      const writer = gitRegistry({ dir: join(root, dir), syncIntervalMs: 0 })(components)
      for (let i = 0; i < 40; i++) await writer.publish(await signed(key, `acme.com/${dir}/fn-${i}`, 1))
      await writer.stop()
      await components.close()
      // Without the saved index, opening the repository indexes (and verifies) every record again.
      await rm(join(root, dir, 'fmesh-index.json'))
    }
    const seen: RegistryComponents[] = []
    const spy = (dir: string, id: string) => (components: RegistryComponents) => {
      seen.push(components)
      return gitRegistry({ dir: join(root, dir), id, syncIntervalMs: 0 })(components)
    }
    const verifyMany = vi.spyOn(RecordVerifier.prototype, 'verifyMany')
    const mesh = closeAfter(
      await createMesh({
        registries: [spy('one', 'git-1'), spy('two', 'git-2')],
        trust: { owners },
      }),
    )
    try {
      expect(seen.map((c) => c.verifier)).toEqual([mesh.verifier, mesh.verifier])
      expect(seen[0]!.trust).toBe(seen[1]!.trust)
      expect(seen[0]!.clock).toBe(seen[1]!.clock)
      // Each registry verified its 40 records in batches (in the background once indexed), every
      // batch on the mesh's one verifier.
      await Promise.all(['git-1', 'git-2'].map((id) => mesh.registry<GitRegistry>(id).verified()))
      expect(verifyMany.mock.calls.reduce((n, [items]) => n + items.length, 0)).toBe(80)
      expect(verifyMany.mock.contexts.every((verifier) => verifier === mesh.verifier)).toBe(true)
      expect((await mesh.resolve('acme.com/two/fn-7')).source).toMatchObject({ registry: 'git-2' })
    } finally {
      verifyMany.mockRestore()
      await mesh.close()
    }
  })

  it('hands a factory the mesh’s components and returns the registry it made from mesh.registry(id)', async () => {
    let got: RegistryComponents | undefined
    const mesh = closeAfter(
      await createMesh({
        registries: [
          (components) => {
            got = components
            return memoryRegistry({ id: 'made' })
          },
        ],
      }),
    )
    expect(Object.keys(got!).sort()).toEqual(
      ['clock', 'dataDir', 'logger', 'seqLedger', 'signal', 'trust', 'verifier'].sort(),
    )
    expect(mesh.registry('made').id).toBe('made')
    expect(mesh.registries.map((r) => r.id)).toEqual(['made'])
    expect((await rejection(Promise.resolve().then(() => mesh.registry('other')))).code).toBe(
      'E_REGISTRY_UNKNOWN',
    )
    expect(got!.signal.aborted).toBe(false)
    await mesh.close()
    expect(got!.signal.aborted).toBe(true)
  })

  it('asks a registry’s trust source before the configured owners', async () => {
    const chainKey = await generateSigner()
    const registry = Object.assign(memoryRegistry({ id: 'chain' }), {
      trustSource: {
        id: 'chain:test',
        publishersOf: (ns: string) => (ns === 'acme.com' ? [chainKey.id] : undefined),
      },
    })
    const mesh = closeAfter(
      await createMesh({
        registries: [registry],
        trust: { owners: { 'acme.com': [key.id], 'beta.org': [key.id] } },
      }),
    )
    try {
      await mesh.publish(sampleDraft('acme.com/image/sharpen'), { signer: chainKey })
      const result = await mesh.resolve('acme.com/image/sharpen')
      expect(result.verified).toMatchObject({ keyId: chainKey.id, trustSource: 'chain:test' })
      // The pinned key no longer owns acme.com: the chain answers for it first.
      expect((await rejection(mesh.publish(sampleDraft('acme.com/image/blur'), { signer: key }))).code).toBe(
        'E_SIGNER_NOT_OWNER',
      )
      // A namespace the chain does not know falls through to the pinned owners.
      await mesh.publish(sampleDraft('beta.org/text/summarize'), { signer: key })
      expect((await mesh.resolve('beta.org/text/summarize')).verified).toMatchObject({
        trustSource: 'pinned',
      })
    } finally {
      await mesh.close()
    }
  })

  it('adds every registry’s trust source before any registry starts', async () => {
    const chainKey = await generateSigner()
    const record = await signed(chainKey, 'acme.com/image/sharpen', 1)
    let verifiedAtStart: string | undefined
    const checksAtStart = (components: RegistryComponents) =>
      Object.assign(memoryRegistry({ id: 'first' }), {
        start: async () => {
          verifiedAtStart = (await components.verifier.verify(record.bytes)).trustSource
        },
      })
    const chain = Object.assign(memoryRegistry({ id: 'chain' }), {
      trustSource: { id: 'chain:test', publishersOf: () => [chainKey.id] },
    })
    const mesh = closeAfter(await createMesh({ registries: [checksAtStart, chain] }))
    expect(verifiedAtStart).toBe('chain:test')
    await mesh.close()
  })

  it('error: close stops every part even when one fails, then rejects with that failure', async () => {
    const stopped: string[] = []
    const failing = Object.assign(memoryRegistry({ id: 'a' }), {
      stop: async () => {
        stopped.push('a')
        throw new Error('disk gone')
      },
    })
    const fine = Object.assign(memoryRegistry({ id: 'b' }), { stop: async () => void stopped.push('b') })
    const service = () => ({ start: () => {}, stop: () => void stopped.push('service') })
    const mesh = closeAfter(await createMesh({ registries: [fine, failing], services: [service] }))
    await expect(mesh.close()).rejects.toThrow('disk gone')
    expect(stopped).toEqual(['service', 'a', 'b'])
    await mesh.close() // closed once and for all
  })

  it('error: a factory that returns no registry fails createMesh with E_CONFIG_INVALID naming its place', async () => {
    const err = await rejection(createMesh({ registries: [memoryRegistry(), () => ({}) as never] }))
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path: 'registries[1]' } })
  })

  it('error: two registries with one id fail createMesh, and the first is stopped again', async () => {
    const stop = vi.fn(async () => {})
    const first = Object.assign(memoryRegistry({ id: 'same' }), { stop })
    const err = await rejection(createMesh({ registries: [first, memoryRegistry({ id: 'same' })] }))
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path: 'registries[1].id' } })
    expect(stop).toHaveBeenCalledTimes(1)
  })
})

describe('services', () => {
  it('starts services after the registries, in order, and stops them first, in reverse', async () => {
    const events: string[] = []
    const registry = Object.assign(memoryRegistry({ id: 'r' }), {
      start: async () => void events.push('registry start'),
      stop: async () => void events.push('registry stop'),
    })
    let components: ServiceComponents | undefined
    const service = (name: string) => (c: ServiceComponents) => {
      components = c
      return {
        start: async () => void events.push(`${name} start`),
        stop: async () => void events.push(`${name} stop`),
      }
    }
    const mesh = closeAfter(
      await createMesh({ registries: [registry], services: [service('a'), service('b')] }),
    )
    expect(events).toEqual(['registry start', 'a start', 'b start'])
    expect(components!.mesh).toBe(mesh)
    expect(components!.registries.map((r) => r.id)).toEqual(['r'])
    expect(components!.resolver).toBeInstanceOf(Resolver)
    await mesh.close()
    expect(events.slice(3)).toEqual(['b stop', 'a stop', 'registry stop'])
  })

  it('error: a service that fails to start fails createMesh with its error; it and what started are stopped', async () => {
    const events: string[] = []
    const ok = () => ({ start: () => void events.push('ok start'), stop: () => void events.push('ok stop') })
    const bad = () => ({
      start: () => {
        throw Object.assign(new Error('port in use'), { code: 'EADDRINUSE' })
      },
      stop: () => void events.push('bad stop'),
    })
    const err = await createMesh({ services: [ok, bad] }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('port in use')
    // The failed service is stopped too (stop is idempotent; it may have half started).
    expect(events).toEqual(['ok start', 'bad stop', 'ok stop'])
  })
})

describe('the Resolver on its own', () => {
  it('resolves through registries without a mesh, then from its cache', async () => {
    const registry = memoryRegistry()
    await registry.publish(await signed(key, 'acme.com/image/sharpen', 1))
    const verifier = new RecordVerifier({ trust: [{ id: 'pinned', publishersOf: () => [key.id] }] })
    const resolver = new Resolver({
      registries: [registry],
      verifier,
      seqLedger: memorySeqLedger(),
      clock: systemClock,
    })
    expect((await resolver.resolve('acme.com/image/sharpen@^1.2')).source).toMatchObject({ kind: 'registry' })
    expect((await resolver.resolve('acme.com/image/sharpen@^1.2')).source).toMatchObject({ kind: 'cache' })
    await verifier.close()
  })
})

describe('a closed mesh and bad arguments', () => {
  it('error: a closed mesh refuses resolve, select, call, dispatch, publish and the ledger with E_MESH_CLOSED', async () => {
    const mesh = closeAfter(
      await createMesh({ registries: [memoryRegistry()], ledger: { path: ':memory:' } }),
    )
    await mesh.close()
    await mesh.close() // idempotent
    const attempts = [
      mesh.resolve('acme.com/image/sharpen'),
      mesh.select('acme.com/image/sharpen'),
      mesh.call('acme.com/image/sharpen', {}),
      mesh.dispatch('image.uploaded', {}),
      mesh.publish(sampleDraft('acme.com/image/sharpen'), { signer: key }),
      mesh.lineage.verify(),
      mesh.billing.usage({ by: 'provider' }),
      mesh.leases.get('lease-1'),
    ]
    for (const attempt of attempts) {
      const err = await rejection(attempt)
      expect(err.code).toBe('E_MESH_CLOSED')
      expect(err.message).toMatch(/the mesh is closed/)
    }
  })

  it('error: an unknown createMesh option is refused naming it and the nearest known one', async () => {
    const err = await rejection(createMesh({ registrys: [] } as never))
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path: 'registrys' } })
    expect(err.message).toContain('did you mean `registries`?')
    const nested = await rejection(createMesh({ invoke: { defaultTimeout: 5 } } as never))
    expect(nested).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path: 'invoke.defaultTimeout' } })
    expect(nested.message).toContain('did you mean `defaultTimeoutMs`?')
    for (const [init, path, near] of [
      [{ ledger: { path: ':memory:', durabilty: 'full' } }, 'ledger.durabilty', 'durability'],
      [{ cache: { maxx: 3 } }, 'cache.maxx', 'max'],
      [{ health: { decayMS: 3 } }, 'health.decayMS', 'decayMs'],
    ] as const) {
      const err = await rejection(createMesh(init as never))
      expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path } })
      expect(err.message).toContain(`did you mean \`${near}\`?`)
    }
    const far = await rejection(createMesh({ zzz: 1 } as never))
    expect(far.message).toContain('known options: registries, services')
  })

  it('error: public functions turn bad arguments into E_INVALID_ARGUMENT', async () => {
    const mesh = closeAfter(await createMesh({ registries: [memoryRegistry()] }))
    try {
      const noOptions = await rejection(
        mesh.publish(sampleDraft('acme.com/image/sharpen'), undefined as never),
      )
      expect(noOptions).toMatchObject({ code: 'E_INVALID_ARGUMENT', details: { argument: 'options' } })
      expect((await rejection(mesh.resolve(42 as never))).code).toBe('E_INVALID_ARGUMENT')
      expect((await rejection(mesh.select(null as never))).code).toBe('E_INVALID_ARGUMENT')
      expect((await rejection(mesh.call({} as never, {}))).code).toBe('E_INVALID_ARGUMENT')
      expect((await rejection(mesh.dispatch(7 as never, {}))).code).toBe('E_INVALID_ARGUMENT')
    } finally {
      await mesh.close()
    }
  })
})

describe('the registry kit', () => {
  it('the example registry imports nothing but node built-ins and function-mesh/registry', async () => {
    const source = await readFile(new URL('../examples/directoryRegistry.ts', import.meta.url), 'utf8')
    const from = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!)
    expect(from.length).toBeGreaterThan(1)
    for (const spec of from)
      expect(spec === 'function-mesh/registry' || spec.startsWith('node:'), spec).toBe(true)
    const test = await readFile(new URL('../examples/directoryRegistry.test.ts', import.meta.url), 'utf8')
    const testFrom = [...test.matchAll(/from '([^']+)'/g)].map((m) => m[1]!)
    for (const spec of testFrom)
      expect(
        ['function-mesh/testing', 'vitest', './directoryRegistry.js'].includes(spec) ||
          spec.startsWith('node:'),
        spec,
      ).toBe(true)
  })
})
