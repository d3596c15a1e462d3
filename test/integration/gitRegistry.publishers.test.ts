import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { sampleDraft, signed } from '../_helpers/records.js'
import { systemGit } from '../_helpers/systemGit.js'
import { until } from '../_helpers/until.js'

describe('gitRegistry: two publishers over a real Git HTTP server', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let keyA: LocalSigner
  let keyB: LocalSigner
  let a: GitRegistry
  let b: GitRegistry
  let meshA: Mesh
  let meshB: Mesh
  let owners: Record<string, string[]>

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-pub-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    url = await server.createRepo('records.git')
    keyA = await generateSigner()
    keyB = await generateSigner()
    owners = { 'acme.com': [keyA.id], 'beta.org': [keyB.id] }
    a = gitRegistry({
      id: 'git-a',
      dir: join(root, 'a'),
      url,
      syncIntervalMs: 0,
      signer: keyA,
    })(registryComponents({ trust: { owners } }))
    b = gitRegistry({
      id: 'git-b',
      dir: join(root, 'b'),
      url,
      syncIntervalMs: 0,
      signer: keyB,
    })(registryComponents({ trust: { owners } }))
    meshA = await createMesh({ registries: [a], trust: { owners } })
    meshB = await createMesh({ registries: [b], trust: { owners } })
  })
  afterAll(async () => {
    await meshA?.close()
    await meshB?.close()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('A publishes, B syncs and resolves it through a mesh', async () => {
    const published = await meshA.publish(sampleDraft('acme.com/image/sharpen'), { signer: keyA })
    const report = await b.sync()
    expect(report.changed).toContain('acme.com/image/sharpen')
    expect(report.skipped).toEqual([])
    const result = await meshB.resolve('acme.com/image/sharpen@^1.2')
    expect(result.version).toBe('1.4.1')
    expect(result.source).toMatchObject({ kind: 'registry', registry: 'git-b' })
    expect(result.verified).toMatchObject({ keyId: keyA.id, seq: published.seq })
    expect(result.recordId).toBe(published.id)
  })

  it('writes one canonical JSON file per record and a README at the repository root', async () => {
    const bare = join(server.root, 'records.git')
    const files = (await systemGit(['ls-tree', '-r', '--name-only', 'main'], bare)).trim().split('\n')
    expect(files).toContain('README.md')
    expect(files).toContain('records/acme.com/image/sharpen.json')
    const text = await systemGit(['show', 'main:records/acme.com/image/sharpen.json'], bare)
    const entry = await a.lookup('acme.com/image/sharpen')
    expect(text).toBe(new TextDecoder().decode(entry!.bytes))
    expect(JSON.parse(text)).toMatchObject({ name: 'acme.com/image/sharpen', namespace: 'acme.com' })
  })

  it('signs each commit with the publisher key, and a sync verifies and reports it', async () => {
    const bare = join(server.root, 'records.git')
    const raw = await systemGit(['cat-file', 'commit', 'main'], bare)
    expect(raw).toContain('gpgsig -----BEGIN FMESH SIGNATURE-----')
    expect(raw).toContain(`Key-Id: ${keyA.id}`)
    expect(await systemGit(['fsck', '--no-progress'], bare)).toBe('')
    await meshA.publish(sampleDraft('acme.com/image/blur'), { signer: keyA })
    const report = await b.sync()
    expect(report.commits.length).toBe(1)
    expect(report.commits[0]!.signature).toEqual({ status: 'valid', keyId: keyA.id })
    expect(report.rewritten).toBe(false)
  })

  it('a publisher behind the remote rebuilds its commit on the new tip and pushes, never forcing', async () => {
    await a.publish(await signed(keyA, 'acme.com/image/crop', 1))
    // b has not synced: its push is rejected, it fetches, re-applies its record on top and retries.
    const receipt = await b.publish(await signed(keyB, 'beta.org/text/summarize', 1))
    expect(receipt.location).toMatch(/^git:[0-9a-f]{40}:records\/beta\.org\/text\/summarize\.json$/)
    expect(
      JSON.parse(new TextDecoder().decode((await b.lookup('acme.com/image/crop'))!.bytes)),
    ).toMatchObject({
      name: 'acme.com/image/crop',
      seq: 1,
    })
    const bare = join(server.root, 'records.git')
    const log = (await systemGit(['log', '--format=%s', 'main'], bare)).trim().split('\n')
    expect(log.slice(0, 2)).toEqual([
      'Publish beta.org/text/summarize seq 1',
      'Publish acme.com/image/crop seq 1',
    ])
  })

  it('both publish concurrently and every record survives', async () => {
    await Promise.all([a.sync(), b.sync()])
    const fromA = await Promise.all([1, 2, 3].map((i) => signed(keyA, `acme.com/race/fn-${i}`, 1)))
    const fromB = await Promise.all([1, 2, 3].map((i) => signed(keyB, `beta.org/race/fn-${i}`, 1)))
    await Promise.all([...fromA.map((r) => a.publish(r)), ...fromB.map((r) => b.publish(r))])
    await Promise.all([a.sync(), b.sync()])
    for (const registry of [a, b]) {
      for (const record of [...fromA, ...fromB]) {
        const entry = await registry.lookup(record.record.name)
        expect(entry, `${registry.id} holds ${record.record.name}`).toBeDefined()
        expect((await meshB.verifier.verify(entry!.bytes)).id).toBe(record.id)
      }
    }
    const bare = join(server.root, 'records.git')
    const files = await systemGit(['ls-tree', '-r', '--name-only', 'main', 'records/'], bare)
    for (const record of [...fromA, ...fromB]) expect(files).toContain(`records/${record.record.name}.json`)
    // Linear history: no merge commits, no force.
    expect((await systemGit(['rev-list', '--merges', 'main'], bare)).trim()).toBe('')
  })

  it("B sees A's update to an existing record and its mesh cache is invalidated through watch", async () => {
    const before = await meshB.resolve('acme.com/image/sharpen')
    expect(before.record.description).toBe('Sharpen images')
    expect((await meshB.resolve('acme.com/image/sharpen')).source.kind).toBe('cache')
    await meshA.publish(sampleDraft('acme.com/image/sharpen', { description: 'Sharpen images, faster' }), {
      signer: keyA,
    })
    const report = await b.sync()
    expect(report.changed).toEqual(['acme.com/image/sharpen'])
    const after = await until(
      async () => {
        const r = await meshB.resolve('acme.com/image/sharpen')
        return r.record.description === 'Sharpen images, faster' && r
      },
      { what: 'the mesh to drop its cached record' },
    )
    expect(after.source.kind).toBe('registry')
    expect(after.record.seq).toBe(before.record.seq + 1)
  })

  it('a new registry on an existing remote clones it and serves every record', async () => {
    const c = gitRegistry({ id: 'git-c', dir: join(root, 'c'), url, syncIntervalMs: 0 })(
      registryComponents({ trust: { owners } }),
    )
    await c.start()
    const names: string[] = []
    for await (const name of c.list('**')) names.push(name)
    expect(names).toContain('beta.org/text/summarize')
    expect(names).toContain('acme.com/race/fn-3')
    expect(c.status()).toMatchObject({ started: true, names: names.length, url })
    await c.stop()
  })
})

describe('gitRegistry: auth headers', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-auth-'))
    server = await startGitHttpServer({
      root: join(root, 'srv'),
      requireHeader: { name: 'Authorization', value: 'Bearer s3cret' },
    })
    url = await server.createRepo('records.git')
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('error: a remote that refuses the credentials gives E_GIT_AUTH', async () => {
    const registry = gitRegistry({ dir: join(root, 'no-auth'), url, syncIntervalMs: 0 })(registryComponents())
    const err = await registry.start().catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_GIT_AUTH', details: { status: 401, url } })
  })

  it('sends the configured headers on every request', async () => {
    const key = await generateSigner()
    const registry = gitRegistry({
      dir: join(root, 'auth'),
      url,
      syncIntervalMs: 0,
      headers: { Authorization: 'Bearer s3cret' },
    })(registryComponents())
    await registry.start()
    await registry.publish(await signed(key, 'acme.com/private/fn', 1))
    expect(
      await systemGit(['ls-tree', '-r', '--name-only', 'main'], join(server.root, 'records.git')),
    ).toContain('records/acme.com/private/fn.json')
    await registry.stop()
  })
})
