import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { seedClock, seedKeys, seedRepo } from '../_helpers/seedRepo.js'

describe('gitRegistry over the fixtures/git-seed repository', () => {
  let root: string
  let server: GitHttpServer
  let registry: GitRegistry
  let mesh: Mesh

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-seed-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    await seedRepo(join(server.root, 'seed.git'))
    const { owners } = await seedKeys()
    registry = gitRegistry({
      dir: join(root, 'clone'),
      url: server.url('seed.git'),
      syncIntervalMs: 0,
    })(registryComponents({ trust: { owners }, clock: seedClock }))
    mesh = await createMesh({ registries: [registry], trust: { owners }, clock: seedClock })
  })
  afterAll(async () => {
    await mesh?.close()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('indexes every seed record under both namespaces, none skipped', async () => {
    const names: string[] = []
    for await (const name of registry.list('**')) names.push(name)
    expect(names.sort()).toEqual([
      'acme.com/image/blur',
      'acme.com/image/sharpen',
      'acme.com/text/nlp/sentiment',
      'beta.org/data/csv-to-json',
      'beta.org/ledger/append',
    ])
    expect(registry.status().lastSync?.report.skipped).toEqual([])
  })

  it('resolves ranges past deprecated and yanked versions', async () => {
    expect((await mesh.resolve('acme.com/image/sharpen@^1.2')).version).toBe('1.4.1')
    expect((await mesh.resolve('acme.com/image/blur@^1')).version).toBe('1.1.1')
    expect((await mesh.resolve('beta.org/data/csv-to-json')).version).toBe('2.1.0')
    const exact = await mesh.resolve('acme.com/image/blur@1.0.0')
    expect(exact.record.versions['1.0.0']?.deprecated).toBe(true)
  })

  it('error: refuses the seed when the pinned owner is another key', async () => {
    const { signers } = await seedKeys()
    const wrong = gitRegistry({
      dir: join(root, 'wrong'),
      url: server.url('seed.git'),
      syncIntervalMs: 0,
    })(
      registryComponents({
        trust: { owners: { 'acme.com': [signers['beta.org']!.id], 'beta.org': [signers['beta.org']!.id] } },
        clock: seedClock,
      }),
    )
    const report = await wrong.sync()
    expect([...report.changed].sort()).toEqual(['beta.org/data/csv-to-json', 'beta.org/ledger/append'])
    expect(new Set(report.skipped.map((s) => s.code))).toEqual(new Set(['E_SIGNER_NOT_OWNER']))
    expect(report.skipped).toHaveLength(3)
  })
})
