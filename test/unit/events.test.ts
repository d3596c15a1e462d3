import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ServiceComponents } from '../../src/components.js'
import type { CallEvent, ChangeEvent, PublishEvent, ResolveEvent } from '../../src/events.js'
import { MeshEvents } from '../../src/events.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { MeshInit } from '../../src/meshOptions.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import type { RegistryChange } from '../../src/registry/types.js'
import type { Transport } from '../../src/transport/types.js'
import { generateSigner } from '../../src/trust/signer.js'
import { sampleDraft } from '../_helpers/records.js'
import { rejection } from '../_helpers/rejection.js'
import { until } from '../_helpers/until.js'
import { upperFunction } from '../_helpers/upper.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function mesh(extra: MeshInit = {}): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-events-'))
  const m = await createMesh({ ledger: { path: join(dir, 'ledger.sqlite') }, dataDir: dir, ...extra })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  cleanups.push(() => m.close())
  return m
}

describe('mesh.events', () => {
  it('reports resolves from the marketplace, the registries and the cache, and failed ones with their code', async () => {
    const signer = await generateSigner()
    const m = await mesh({ registries: [memoryRegistry()], trust: { owners: { 'acme.com': [signer.id] } } })
    upperFunction('1').register(m.marketplace)
    await m.publish(sampleDraft(), { signer })
    const seen: ResolveEvent[] = []
    m.events.on('resolve', (e) => seen.push(e))
    await m.resolve('acme.com/text/upper@^1')
    await m.resolve('acme.com/image/sharpen@^1.2')
    await m.resolve('acme.com/image/sharpen@^1.2')
    expect(await rejection(m.resolve('acme.com/image/missing'))).toMatchObject({
      code: 'E_FUNCTION_NOT_FOUND',
    })
    expect(seen.map((e) => [e.name, e.outcome, e.source?.kind ?? e.code])).toEqual([
      ['acme.com/text/upper', 'ok', 'marketplace'],
      ['acme.com/image/sharpen', 'ok', 'registry'],
      ['acme.com/image/sharpen', 'ok', 'cache'],
      ['acme.com/image/missing', 'error', 'E_FUNCTION_NOT_FOUND'],
    ])
    expect(seen[1]).toMatchObject({ version: '1.4.1' })
    expect(seen.every((e) => e.durationMs >= 0)).toBe(true)
  })

  it('reports each call once with its provider and charge, and a failed call with its code', async () => {
    const m = await mesh()
    upperFunction('7').register(m.marketplace)
    const calls: CallEvent[] = []
    m.events.on('call', (e) => calls.push(e))
    const result = await m.call('acme.com/text/upper@^1', { text: 'hi' }, { principal: 'alice' })
    expect(await rejection(m.call('acme.com/text/upper@^1', { wrong: 1 }))).toMatchObject({
      code: 'E_INPUT_INVALID',
    })
    expect(calls).toHaveLength(2)
    expect(calls[0]).toMatchObject({
      name: 'acme.com/text/upper',
      outcome: 'ok',
      principal: 'alice',
      version: '1.0.0',
      invocationId: result.invocationId,
      charge: { amount: '7', currency: 'USDC' },
      attempts: 1,
      replayed: false,
    })
    expect(calls[1]).toMatchObject({ outcome: 'error', code: 'E_INPUT_INVALID', principal: 'local' })
  })

  it('reports publishes and registry changes, and keeps going when a listener throws', async () => {
    const signer = await generateSigner()
    let push: ((c: RegistryChange) => void) | undefined
    const watching = Object.assign(memoryRegistry({ id: 'watching' }), {
      async *watch({ signal }: { signal?: AbortSignal } = {}) {
        while (signal?.aborted !== true) {
          const next = await new Promise<RegistryChange>((resolve) => {
            push = resolve
          })
          yield next
        }
      },
    })
    const m = await mesh({ registries: [watching], trust: { owners: { 'acme.com': [signer.id] } } })
    const published: PublishEvent[] = []
    const changed: ChangeEvent[] = []
    m.events.on('publish', () => {
      throw new Error('a broken listener')
    })
    m.events.on('publish', (e) => published.push(e))
    m.events.on('change', (e) => changed.push(e))
    const result = await m.publish(sampleDraft(), { signer })
    expect(published).toEqual([
      { name: 'acme.com/image/sharpen', id: result.id, seq: result.seq, registries: ['watching'] },
    ])
    await until(() => push !== undefined)
    push!({ names: ['acme.com/image/sharpen'], namespaces: ['acme.com'], reason: 'test' })
    await until(() => changed.length === 1)
    expect(changed[0]).toEqual({
      registry: 'watching',
      names: ['acme.com/image/sharpen'],
      namespaces: ['acme.com'],
      reason: 'test',
    })
  })

  it('removes a listener with the function on returns, and refuses a listener that is not a function', () => {
    const events = new MeshEvents()
    const seen: unknown[] = []
    const off = events.on('service', (e) => seen.push(e.type))
    expect(events.has('service')).toBe(true)
    events.emit('service', { type: 'one' })
    off()
    events.emit('service', { type: 'two' })
    expect(seen).toEqual(['one'])
    expect(events.has('service')).toBe(false)
    expect(() => events.on('call', 'nope' as never)).toThrow(/listener must be a function/)
  })
})

describe('services bring registries and transports', () => {
  it('a service adds a registry (asked after the configured ones) and a transport the invoker uses', async () => {
    const signer = await generateSigner()
    let components: ServiceComponents | undefined
    const echo: Transport = {
      name: 'echo',
      handles: (endpoint) => endpoint.startsWith('libp2p:/p2p/echo'),
      call: async (request) => ({
        output: { image: `echoed ${(request.input as { image: string }).image}` },
      }),
    }
    const brought = memoryRegistry({ id: 'brought' })
    let stopped = 0
    const service = (c: ServiceComponents) => {
      components = c
      return {
        async start() {
          await c.addRegistry(brought)
          c.addTransport(echo)
        },
        stop() {
          stopped++
        },
      }
    }
    const m = await mesh({
      registries: [memoryRegistry({ id: 'configured' })],
      services: [service],
      trust: { owners: { 'acme.com': [signer.id] } },
    })
    expect(m.registries.map((r) => r.id)).toEqual(['configured', 'brought'])
    expect(m.registry('brought')).toBe(brought)
    const draft = sampleDraft('acme.com/image/echo')
    const version = draft.versions['1.4.1']!
    const echoed = {
      ...draft,
      versions: {
        '1.4.1': {
          ...version,
          providers: [{ ...version.providers[0]!, id: 'echo-1', endpoint: 'libp2p:/p2p/echo-one' }],
        },
      },
      securityRequirements: { ...draft.securityRequirements, trustedProviders: ['echo-1'] },
    }
    await m.publish(echoed, { signer, to: 'brought' })
    expect((await m.resolve('acme.com/image/echo')).source).toMatchObject({ registry: 'brought' })
    const result = await m.call('acme.com/image/echo', { image: 'x' }, { context: { level: 'full' } })
    expect(result.output).toEqual({ image: 'echoed x' })
    expect(result.provider.id).toBe('echo-1')
    // A registry id already taken is refused with the configured one's message.
    expect(await rejection(components!.addRegistry(memoryRegistry({ id: 'configured' })))).toMatchObject({
      code: 'E_CONFIG_INVALID',
    })
    expect(() => components!.addTransport({} as Transport)).toThrow(/transport/)
    await m.close()
    expect(stopped).toBe(1)
    expect(await rejection(components!.addRegistry(memoryRegistry({ id: 'late' })))).toMatchObject({
      code: 'E_MESH_CLOSED',
    })
  })
})
