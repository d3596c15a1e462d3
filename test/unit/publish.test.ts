import { beforeEach, describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type ControlledRegistry, controlledRegistry } from '../_helpers/controlledRegistry.js'
import { sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'

describe('mesh.publish', () => {
  let signer: LocalSigner
  let a: ControlledRegistry
  let b: ControlledRegistry
  let mesh: Mesh

  beforeEach(async () => {
    signer = await generateSigner()
    a = controlledRegistry('a')
    b = controlledRegistry('b')
    mesh = await createMesh({ registries: [a, b], trust: { owners: { 'acme.com': [signer.id] } } })
  })

  it('fills the envelope, signs, writes to every registry and returns the id', async () => {
    const result = await mesh.publish(sampleDraft(), { signer })
    expect(result).toMatchObject({
      name: 'acme.com/image/sharpen',
      seq: 1,
      receipts: [{ registry: 'a' }, { registry: 'b' }],
    })
    expect(result.record.namespace).toBe('acme.com')
    expect(result.record.ttlSeconds).toBe(300)
    expect(Date.parse(result.record.expiresAt) - Date.parse(result.record.issuedAt)).toBe(
      30 * 24 * 3600 * 1000,
    )
    expect((await mesh.resolve('acme.com/image/sharpen')).recordId).toBe(result.id)
  })

  it('picks the next seq from what the registries hold', async () => {
    await mesh.publish(sampleDraft(), { signer, to: 'b' })
    await mesh.publish(sampleDraft(), { signer, to: 'b' })
    const other = await createMesh({ registries: [a, b], trust: { owners: { 'acme.com': [signer.id] } } })
    expect((await other.publish(sampleDraft(), { signer })).seq).toBe(3)
  })

  it('drops the published name from the cache', async () => {
    await mesh.publish(sampleDraft(), { signer })
    expect((await mesh.resolve('acme.com/image/sharpen')).record.seq).toBe(1)
    await mesh.publish({ ...sampleDraft(), description: 'v2' }, { signer })
    const r = await mesh.resolve('acme.com/image/sharpen')
    expect(r).toMatchObject({ source: { kind: 'registry' }, record: { seq: 2, description: 'v2' } })
  })

  it('normalizes the name and lowercases it', async () => {
    const result = await mesh.publish(sampleDraft('ACME.com/Image/Sharpen'), { signer })
    expect(result.name).toBe('acme.com/image/sharpen')
  })

  it('error: refuses a key that does not own the namespace before writing anything', async () => {
    const stranger = await generateSigner()
    expect((await rejection(mesh.publish(sampleDraft(), { signer: stranger }))).code).toBe(
      'E_SIGNER_NOT_OWNER',
    )
    expect(await a.lookup('acme.com/image/sharpen')).toBeUndefined()
  })

  it('error: refuses an invalid draft, naming the field', async () => {
    const err = await rejection(
      mesh.publish({ ...sampleDraft(), versions: { one: {} } } as never, { signer }),
    )
    expect(err.code).toBe('E_RECORD_SCHEMA')
    expect(err.details.path).toBe('versions["one"]')
    expect(
      (await rejection(mesh.publish({ ...sampleDraft(), name: 'bad name' }, { signer }))).details.path,
    ).toBe('name')
    expect((await rejection(mesh.publish(null as never, { signer }))).code).toBe('E_RECORD_SCHEMA')
    expect((await rejection(mesh.publish(sampleDraft(), {} as never))).code).toBe('E_RECORD_SCHEMA')
  })

  it('error: E_REGISTRY_UNKNOWN for a target the mesh does not have', async () => {
    const err = await rejection(mesh.publish(sampleDraft(), { signer, to: ['a', 'nope'] }))
    expect(err.code).toBe('E_REGISTRY_UNKNOWN')
    expect(err.details).toMatchObject({ registry: 'nope', known: ['a', 'b'] })
    // The CLI prints only the first line and the hint, so the ids the mesh has are in the line.
    expect(err.message.split('\n')[0]).toBe('No registry named nope; the registries are a, b')
    expect(err.hint).toBe(
      'Name one of those ids. A config entry without an "id" is named after its type at index 0 and TYPE-N at index N ([{ "type": "git" }, { "type": "ipfs" }] are git and ipfs-1); give it an "id" to choose.',
    )
  })

  it('error: E_PUBLISH_CONFLICT when the seq given is not above the stored one', async () => {
    await mesh.publish({ ...sampleDraft(), seq: 5 }, { signer, to: 'a' })
    expect(
      (await rejection(mesh.publish({ ...sampleDraft(), seq: 5, description: 'x' }, { signer, to: 'a' })))
        .code,
    ).toBe('E_PUBLISH_CONFLICT')
  })

  it('error: E_PUBLISH_INCOMPLETE names the registries that failed and those that stored it', async () => {
    const broken = memoryRegistry({ id: 'broken' })
    broken.publish = async () => {
      throw new Error('disk full')
    }
    const m = await createMesh({ registries: [a, broken], trust: { owners: { 'acme.com': [signer.id] } } })
    const err = await rejection(m.publish(sampleDraft(), { signer }))
    expect(err.code).toBe('E_PUBLISH_INCOMPLETE')
    expect(err.details).toMatchObject({ stored: ['a'], failed: ['broken: E_REGISTRY'] })
  })
})

describe('createMesh options', () => {
  it.each([
    [{ lookupTimeoutMs: -1 }, 'lookupTimeoutMs'],
    [{ cache: { max: 0 } }, 'cache.max'],
    [{ cache: { ttl: 5 } }, 'cache.ttl'],
    [{ registries: [{}] }, 'registries[0]'],
    [{ trust: { owners: { 'acme.com': ['not-a-key'] } } }, 'trust.owners["acme.com"][0]'],
    [{ trust: 'yes' }, 'trust'],
  ])('error: E_CONFIG_INVALID for %j at %s', async (init, path) => {
    const err = await rejection(createMesh(init as never))
    expect(err.code).toBe('E_CONFIG_INVALID')
    expect(err.details.path).toBe(path)
  })

  it('error: refuses two registries with the same id', async () => {
    const err = await rejection(createMesh({ registries: [memoryRegistry(), memoryRegistry()] }))
    expect(err.details.path).toBe('registries[1].id')
  })
})

describe('marketplace', () => {
  it('registers, resolves by range, and unregisters local functions', async () => {
    const mesh = await createMesh()
    const off = mesh.marketplace.register(
      { name: 'acme.com/text/upper', version: '1.0.0', triggerEvents: ['text.created'] },
      (i: { t: string }) => i.t.toUpperCase(),
    )
    mesh.marketplace.register({ name: 'acme.com/text/upper', version: '1.1.0' }, (i: { t: string }) =>
      i.t.toUpperCase(),
    )
    expect((await mesh.resolve('acme.com/text/upper@^1')).version).toBe('1.1.0')
    expect([...mesh.marketplace.byTrigger('text.created')].map((f) => f.version)).toEqual(['1.0.0'])
    off()
    expect(await mesh.resolve('acme.com/text/upper@~1.0.0').catch((e: MeshError) => e.code)).toBe(
      'E_FUNCTION_NOT_FOUND',
    )
  })

  it('error: refuses a bad local descriptor, naming the field', () => {
    const mesh = createMesh()
    return mesh.then((m) => {
      expect(() => m.marketplace.register({ name: 'acme.com/x', version: 'one' }, () => 1)).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          details: expect.objectContaining({ path: 'marketplace.register: version' }),
        }),
      )
      expect(() => m.marketplace.register({ name: 'no slash', version: '1.0.0' }, () => 1)).toThrow(MeshError)
      expect(() => m.marketplace.register({ name: 'acme.com/x', version: '1.0.0' }, 'nope' as never)).toThrow(
        MeshError,
      )
    })
  })
})
