import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { systemGit } from '../_helpers/systemGit.js'

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isMeshError(err), `expected a MeshError, got ${String(err)}`).toBe(true)
  return err as { code: string; message: string }
}

/** Clones `url` with system git, lets `edit` change the work tree, commits everything and pushes. */
async function commitWithSystemGit(
  url: string,
  work: string,
  message: string,
  edit: (dir: string) => Promise<void>,
): Promise<void> {
  await rm(work, { recursive: true, force: true })
  await systemGit(['clone', '--quiet', url, work])
  await edit(work)
  await systemGit(['add', '-A'], work)
  await systemGit(['commit', '--quiet', '-m', message], work)
  await systemGit(['push', '--quiet', 'origin', 'HEAD:main'], work)
}

describe('gitRegistry faults over a real Git HTTP server', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let key: LocalSigner
  let owners: Record<string, string[]>
  let a: GitRegistry
  let b: GitRegistry
  let meshB: Mesh
  let verifier: RecordVerifier

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-faults-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    url = await server.createRepo('records.git')
    key = await generateSigner()
    owners = { 'acme.com': [key.id] }
    verifier = new RecordVerifier({ trust: [pinnedTrust(owners)] })
    a = gitRegistry({
      id: 'git-a',
      dir: join(root, 'a'),
      url,
      syncIntervalMs: 0,
      signer: key,
    })(registryComponents({ trust: { owners } }))
    b = gitRegistry({ id: 'git-b', dir: join(root, 'b'), url, syncIntervalMs: 0 })(
      registryComponents({ trust: { owners } }),
    )
    await a.start()
    meshB = await createMesh({ registries: [b], trust: { owners } })
  })
  afterAll(async () => {
    await meshB?.close()
    await a?.stop()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('server down during sync: serves the last index, reports the error, recovers on restart', async () => {
    const v1 = await signed(key, 'acme.com/image/sharpen', 1)
    await a.publish(v1)
    await b.sync()
    await server.stop()
    const err = await rejection(b.sync())
    expect(err.code).toBe('E_GIT_REMOTE')
    expect(err.message).toContain(url)
    expect(b.status().lastError).toMatchObject({ code: 'E_GIT_REMOTE' })
    const stale = await meshB.resolve('acme.com/image/sharpen', { cache: 'refresh' })
    expect(stale.recordId).toBe(v1.id)
    expect(stale.source).toMatchObject({ kind: 'registry', registry: 'git-b' })

    await server.restart()
    const v2 = await signed(key, 'acme.com/image/sharpen', 2, { description: 'after the outage' })
    await a.publish(v2)
    const report = await b.sync()
    expect(report.changed).toEqual(['acme.com/image/sharpen'])
    expect(b.status().lastError).toBeUndefined()
    expect((await verifier.verify((await b.lookup('acme.com/image/sharpen'))!.bytes)).id).toBe(v2.id)
  })

  it('skips a tampered and an unsigned record committed with system git, names them, keeps the rest', async () => {
    const good = await signed(key, 'acme.com/image/blur', 1)
    await a.publish(good)
    await b.sync()
    const fresh = await signed(key, 'acme.com/image/fresh', 1)
    await commitWithSystemGit(url, join(root, 'work-tamper'), 'hand edits', async (dir) => {
      const tampered = JSON.parse(new TextDecoder().decode(good.bytes))
      tampered.description = 'now free of charge'
      await writeFile(join(dir, 'records/acme.com/image/blur.json'), JSON.stringify(tampered))
      const unsigned = {
        ...JSON.parse(new TextDecoder().decode(fresh.bytes)),
        name: 'acme.com/image/unsigned',
        signatures: [],
      }
      await writeFile(join(dir, 'records/acme.com/image/unsigned.json'), JSON.stringify(unsigned))
      await writeFile(join(dir, 'records/acme.com/image/garbage.json'), '{ not json')
      await writeFile(join(dir, 'records/acme.com/image/fresh.json'), fresh.bytes)
      await mkdir(join(dir, 'records/Acme.com'), { recursive: true })
      await writeFile(join(dir, 'records/Acme.com/upper.json'), fresh.bytes)
    })
    const report = await b.sync()
    expect(report.changed).toEqual(['acme.com/image/fresh'])
    expect(report.skipped.map((s) => [s.name, s.code])).toEqual([
      ['records/Acme.com/upper.json', 'E_GIT_RECORD_PATH'],
      ['acme.com/image/blur', 'E_SIGNATURE_INVALID'],
      ['acme.com/image/garbage', 'E_RECORD_MALFORMED'],
      ['acme.com/image/unsigned', 'E_RECORD_UNSIGNED'],
    ])
    expect(report.skipped[1]).toMatchObject({ path: 'records/acme.com/image/blur.json' })
    expect(report.commits[0]!.signature).toEqual({ status: 'unsigned' })
    // The last good version of the tampered name is still served; the unsigned one never appears.
    expect((await verifier.verify((await b.lookup('acme.com/image/blur'))!.bytes)).id).toBe(good.id)
    expect(await b.lookup('acme.com/image/unsigned')).toBeUndefined()
    const resolved = await meshB.resolve('acme.com/image/blur', { cache: 'refresh' })
    expect(resolved.recordId).toBe(good.id)
  })

  it('refuses a force-pushed history that rolls a record back to a lower seq', async () => {
    const one = await signed(key, 'acme.com/image/rotate', 1)
    const two = await signed(key, 'acme.com/image/rotate', 2, { description: 'v2' })
    await a.publish(one)
    const rollbackTo = (await systemGit(['rev-parse', 'main'], join(server.root, 'records.git'))).trim()
    await a.publish(two)
    await b.sync()
    const work = join(root, 'work-force')
    await systemGit(['clone', '--quiet', url, work])
    await systemGit(['push', '--quiet', '--force', 'origin', `${rollbackTo}:refs/heads/main`], work)

    const report = await b.sync()
    expect(report.rewritten).toBe(true)
    expect(report.commit).toBe(rollbackTo)
    expect(report.skipped).toEqual([
      expect.objectContaining({ name: 'acme.com/image/rotate', code: 'E_SEQ_ROLLBACK' }),
    ])
    expect((await verifier.verify((await b.lookup('acme.com/image/rotate'))!.bytes)).id).toBe(two.id)
    // The refusal sticks across later syncs, and publishing on top of the rewritten remote still works.
    expect((await b.sync()).skipped).toEqual([])
    expect((await verifier.verify((await b.lookup('acme.com/image/rotate'))!.bytes)).id).toBe(two.id)
    await rejection(b.publish(one)).then((e) => expect(e.code).toBe('E_PUBLISH_CONFLICT'))
    const three = await signed(key, 'acme.com/image/rotate', 3)
    await b.publish(three)
    expect((await verifier.verify((await b.lookup('acme.com/image/rotate'))!.bytes)).id).toBe(three.id)
  })
})

describe('gitRegistry with a local repository only', () => {
  let root: string
  let key: LocalSigner
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-local-'))
    key = await generateSigner()
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('keeps its records across a restart and picks up commits pushed into the repository', async () => {
    const dir = join(root, 'repo')
    const first = gitRegistry({ dir, syncIntervalMs: 0, signer: key })(registryComponents())
    await first.start()
    const record = await signed(key, 'acme.com/local/fn', 1)
    await first.publish(record)
    await first.stop()

    const second = gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents())
    await second.start()
    expect((await second.lookup('acme.com/local/fn'))?.bytes).toEqual(record.bytes)
    const pushed = await signed(key, 'acme.com/local/pushed', 1)
    await commitWithSystemGit(dir, join(root, 'work'), 'add a record by hand', async (work) => {
      await writeFile(join(work, 'records/acme.com/local/pushed.json'), pushed.bytes)
      await rm(join(work, 'records/acme.com/local/fn.json'))
    })
    const report = await second.sync()
    expect(report).toMatchObject({
      changed: ['acme.com/local/pushed'],
      removed: ['acme.com/local/fn'],
      skipped: [],
    })
    expect(await second.lookup('acme.com/local/fn')).toBeUndefined()
    await second.stop()
  })

  it('still refuses a rolled-back record after a restart (the index and highest seqs are saved)', async () => {
    const dir = join(root, 'rollback')
    const first = gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents())
    await first.start()
    await first.publish(await signed(key, 'acme.com/local/undo', 1))
    const old = (await systemGit(['rev-parse', 'main'], dir)).trim()
    const newer = await signed(key, 'acme.com/local/undo', 2)
    await first.publish(newer)
    await first.stop()
    await systemGit(['update-ref', 'refs/heads/main', old], dir)

    const second = gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents())
    const report = await second.sync()
    expect(report.skipped).toEqual([
      expect.objectContaining({ name: 'acme.com/local/undo', code: 'E_SEQ_ROLLBACK' }),
    ])
    expect(report.rewritten).toBe(true)
    expect((await second.lookup('acme.com/local/undo'))?.bytes).toEqual(newer.bytes)
    await second.stop()
  })

  it('syncs on its interval and reports the names through watch', async () => {
    const dir = join(root, 'interval')
    const registry = gitRegistry({ dir, syncIntervalMs: 20 })(registryComponents())
    await registry.start()
    const controller = new AbortController()
    const seen = (async () => {
      for await (const change of registry.watch({ signal: controller.signal })) {
        if (change.reason === 'sync') return change.names
      }
      return []
    })()
    const record = await signed(key, 'acme.com/local/timer', 1)
    await commitWithSystemGit(dir, join(root, 'work-interval'), 'by hand', async (work) => {
      await mkdir(join(work, 'records/acme.com/local'), { recursive: true })
      await writeFile(join(work, 'records/acme.com/local/timer.json'), record.bytes)
    })
    const guard = setTimeout(() => controller.abort(), 10_000)
    expect(await seen).toEqual(['acme.com/local/timer'])
    clearTimeout(guard)
    controller.abort()
    await registry.stop()
    await registry.stop()
  })
})

describe('gitRegistry bad input', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-bad-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('error: refuses bad options with E_CONFIG_INVALID naming the option', () => {
    const cases: [unknown, string][] = [
      [undefined, 'gitRegistry'],
      [{}, 'gitRegistry.dir'],
      [{ dir: join(root, 'x'), url: 'ftp://example.com/r.git' }, 'gitRegistry.url'],
      [{ dir: join(root, 'x'), branch: '../main' }, 'gitRegistry.branch'],
      [{ dir: join(root, 'x'), syncIntervalMs: -1 }, 'gitRegistry.syncIntervalMs'],
      [{ dir: join(root, 'x'), author: { name: 'x' } }, 'gitRegistry.author.email'],
      [{ dir: join(root, 'x'), signer: { id: 'k' } }, 'gitRegistry.signer'],
      [{ dir: join(root, 'x'), trust: { owners: {} } }, 'gitRegistry.trust'],
      [{ dir: join(root, 'x'), syncIntervalMS: 0 }, 'gitRegistry.syncIntervalMS'],
    ]
    for (const [init, path] of cases) {
      let err: unknown
      try {
        gitRegistry(init as never)
      } catch (e) {
        err = e
      }
      expect(err, JSON.stringify(init)).toMatchObject({ code: 'E_CONFIG_INVALID', details: { path } })
    }
  })

  it('error: a dir that is a file, a working copy or another folder gives E_GIT_REPOSITORY', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'x')
    const other = join(root, 'other')
    await mkdir(other)
    await writeFile(join(other, 'notes.txt'), 'mine')
    const work = join(root, 'work')
    await systemGit(['init', '--quiet', work])
    for (const dir of [file, other, work]) {
      const err = await rejection(gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents()).start())
      expect(err.code).toBe('E_GIT_REPOSITORY')
      expect(err.message).toContain(dir)
    }
  })

  it('error: an unreachable remote on first use gives E_GIT_REMOTE naming the URL', async () => {
    const dead = await startGitHttpServer({ root: join(root, 'dead') })
    const url = dead.url('records.git')
    await dead.stop()
    const registry = gitRegistry({ dir: join(root, 'unreachable'), url, syncIntervalMs: 0 })(
      registryComponents(),
    )
    const err = await rejection(registry.start())
    expect(err.code).toBe('E_GIT_REMOTE')
    expect(err.message).toContain(url)
    const again = await rejection(registry.lookup('acme.com/image/sharpen'))
    expect(again.code).toBe('E_GIT_REMOTE')
  })

  it('error: a missing repository on a live server gives E_GIT_REMOTE with the HTTP status', async () => {
    const live = await startGitHttpServer({ root: join(root, 'live') })
    const registry = gitRegistry({
      dir: join(root, 'missing'),
      url: live.url('nope.git'),
      syncIntervalMs: 0,
    })(registryComponents())
    const err = await rejection(registry.start())
    expect(err.code).toBe('E_GIT_REMOTE')
    expect(err.message).toMatch(/HTTP 404/)
    await live.stop()
  })

  it('error: publish refuses a record whose bytes do not verify', async () => {
    const key = await generateSigner()
    const registry = gitRegistry({ dir: join(root, 'verify'), syncIntervalMs: 0 })(registryComponents())
    const record = await signed(key, 'acme.com/image/x', 1)
    const bytes = new TextEncoder().encode(
      new TextDecoder().decode(record.bytes).replace('Sharpen', 'Sharpez'),
    )
    const err = await rejection(registry.publish({ ...record, bytes }))
    expect(err.code).toBe('E_SIGNATURE_INVALID')
    await registry.stop()
  })
})
