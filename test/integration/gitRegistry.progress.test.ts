import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { buildRegistries } from '../../src/preset/buildRegistries.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import type { RegistrySyncProgressEvent } from '../../src/registry/syncProgress.js'
import { generateSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'

const enc = new TextEncoder()

/** A clone's progress reaches `onProgress` as typed events (what the CLI draws as a bar). */
describe('gitRegistry sync progress', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let owners: Record<string, string[]>

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-progress-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    const key = await generateSigner()
    owners = { 'acme.com': [key.id] }
    const records = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signed(key, `acme.com/p/fn-${i}`, 1)),
    )
    await commitFiles(join(server.root, 'records.git'), [
      { path: 'README.md', bytes: enc.encode('# records\n') },
      ...records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
    ])
    url = server.url('records.git')
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('a first sync reports start, the fetch phases with counts, then done; a later fetch again', async () => {
    const events: RegistrySyncProgressEvent[] = []
    const registry = gitRegistry({
      id: 'remote',
      dir: join(root, 'clone'),
      url,
      syncIntervalMs: 0,
      onProgress: (e) => events.push(e),
    })(registryComponents({ trust: { owners } }))
    try {
      await registry.sync()
      expect(events[0]).toEqual({ type: 'mesh:registry:sync', registry: 'remote', phase: 'start', loaded: 0 })
      expect(events.at(-1)).toEqual({
        type: 'mesh:registry:sync',
        registry: 'remote',
        phase: 'done',
        loaded: 0,
      })
      const phases = events.slice(1, -1)
      expect(phases.length).toBeGreaterThan(0)
      for (const e of phases) {
        expect(e).toMatchObject({ type: 'mesh:registry:sync', registry: 'remote' })
        expect(e.phase).not.toMatch(/^(start|done)$/)
        expect(Number.isInteger(e.loaded) && e.loaded >= 0).toBe(true)
        if (e.total !== undefined) expect(e.loaded).toBeLessThanOrEqual(e.total)
      }
      expect(phases.some((e) => e.total !== undefined && e.total > 0)).toBe(true)
      const before = events.length
      await registry.sync()
      expect(events.slice(before).map((e) => e.phase)).toEqual(expect.arrayContaining(['start', 'done']))
    } finally {
      await registry.stop()
    }
  })

  it("the preset passes the CLI's onSyncProgress to a Git registry with a remote", async () => {
    const events: RegistrySyncProgressEvent[] = []
    const built = await buildRegistries(
      { dataDir: join(root, 'data'), registries: [{ type: 'git', url, dir: join(root, 'preset.git') }] },
      { oneShot: true, onSyncProgress: (e) => events.push(e) },
    )
    const registry = (await built.registries[0]!(registryComponents({ trust: { owners } }))) as GitRegistry
    try {
      await registry.sync()
      expect(events.map((e) => e.registry)).toEqual(events.map(() => 'git'))
      expect([events[0]!.phase, events.at(-1)!.phase]).toEqual(['start', 'done'])
    } finally {
      await registry.stop()
    }
  })

  it('error: an onProgress that is not a function is refused naming the option', () => {
    expect(() => gitRegistry({ dir: join(root, 'x'), onProgress: 'yes' as never })).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: expect.stringContaining('gitRegistry.onProgress'),
      }),
    )
  })
})
