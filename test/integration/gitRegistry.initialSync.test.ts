import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { gitContext } from '../../registries/git/_context.js'
import { EarlyCheck } from '../../registries/git/_earlyCheck.js'
import { recordCheck } from '../../registries/git/_recordCheck.js'
import { RecordIndex } from '../../registries/git/_recordIndex.js'
import { openRepository } from '../../registries/git/_repository.js'
import { gitRegistry } from '../../registries/git/index.js'
import type { EncodedRecord } from '../../src/record/signRecord.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { pinnedTrust } from '../../src/trust/pinnedTrust.js'
import { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'

const enc = new TextEncoder()
const COUNT = 70

/**
 * A first sync from a remote checks the records while isomorphic-git's fetch is still indexing the
 * pack (registries/git/_earlyCheck.ts): the result must be the one the usual path gives.
 */
describe('gitRegistry first sync: records checked while the fetch indexes its pack', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let key: LocalSigner
  let owners: Record<string, string[]>
  let records: EncodedRecord[]

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-initial-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    key = await generateSigner()
    owners = { 'acme.com': [key.id] }
    records = await Promise.all(
      Array.from({ length: COUNT }, (_, i) => signed(key, `acme.com/group-${i % 7}/fn-${i}`, 1 + (i % 3))),
    )
    const unsigned = await signed(key, 'acme.com/bad/unsigned', 1)
    const raw = JSON.parse(new TextDecoder().decode(unsigned.bytes)) as { signatures: unknown[] }
    raw.signatures = []
    const bare = join(server.root, 'records.git')
    await commitFiles(bare, [
      { path: 'README.md', bytes: enc.encode('# records\n') },
      ...records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
      { path: 'records/acme.com/bad/corrupt.json', bytes: enc.encode('{"name": ') },
      { path: 'records/acme.com/bad/unsigned.json', bytes: enc.encode(JSON.stringify(raw)) },
      { path: 'records/acme.com/bad/elsewhere.json', bytes: records[0]!.bytes },
    ])
    await systemGit(['repack', '-adq'], bare)
    url = server.url('records.git')
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  async function firstSync(dir: string, verifier: RecordVerifier | undefined) {
    const resultFor = vi.spyOn(EarlyCheck.prototype, 'resultFor')
    const registry = gitRegistry({
      dir: join(root, dir),
      url,
      syncIntervalMs: 0,
      // This file is about checking everything before the first answer (see gitRegistry.backgroundVerify).
      verifyInBackground: false,
    })({ ...registryComponents({ trust: { owners } }), ...(verifier === undefined ? {} : { verifier }) })
    try {
      const report = await registry.sync()
      const used = await Promise.all(resultFor.mock.results.map((r) => r.value))
      const lookups = await Promise.all(records.map((r) => registry.lookup(r.record.name)))
      return { report, used: used.some((u) => u !== undefined), lookups, names: registry.status().names }
    } finally {
      resultFor.mockRestore()
      await registry.stop()
    }
  }

  it('indexes every good record and skips each bad one, as the usual path does', async () => {
    const early = await firstSync('early', undefined)
    expect(early.used).toBe(true)
    expect(early.names).toBe(COUNT)
    expect([...early.report.changed].sort()).toEqual(records.map((r) => r.record.name).sort())
    expect(early.report.skipped.map((s) => [s.path, s.code]).sort()).toEqual(
      [
        ['records/acme.com/bad/corrupt.json', 'E_RECORD_MALFORMED'],
        ['records/acme.com/bad/elsewhere.json', 'E_RECORD_SCHEMA'],
        ['records/acme.com/bad/unsigned.json', 'E_RECORD_UNSIGNED'],
      ].sort(),
    )
    early.lookups.forEach((entry, i) => {
      expect(new TextDecoder().decode(entry!.bytes)).toBe(new TextDecoder().decode(records[i]!.bytes))
    })
    // The same repository through the usual path: a registry whose first sync reads a local clone.
    const mirror = join(root, 'mirror.git')
    await systemGit(['clone', '--quiet', '--bare', url, mirror])
    const usual = gitRegistry({ dir: mirror, syncIntervalMs: 0, verifyInBackground: false })(
      registryComponents({ trust: { owners } }),
    )
    const report = await usual.sync()
    expect([...report.changed].sort()).toEqual([...early.report.changed].sort())
    expect(report.skipped.map((s) => [s.path, s.code, s.message]).sort()).toEqual(
      early.report.skipped.map((s) => [s.path, s.code, s.message]).sort(),
    )
    await usual.stop()
  })

  it('gives the same result with the verification workers off (everything checked after the fetch)', async () => {
    const verifier = new RecordVerifier({ trust: [pinnedTrust(owners)], workers: 0 })
    const plain = await firstSync('plain', verifier)
    expect(plain.used).toBe(true)
    expect(plain.names).toBe(COUNT)
    expect(plain.report.skipped.map((s) => s.code).sort()).toEqual([
      'E_RECORD_MALFORMED',
      'E_RECORD_SCHEMA',
      'E_RECORD_UNSIGNED',
    ])
  })

  describe('EarlyCheck on its own', () => {
    async function setUp(dir: string) {
      const ctx = gitContext(join(root, dir))
      await openRepository(ctx, 'early-test', 'main')
      const verifier = new RecordVerifier({ trust: [pinnedTrust(owners)], workers: 1, workerMinBatch: 1 })
      const logged: string[] = []
      const early = new EarlyCheck(
        ctx,
        'main',
        new RecordIndex(),
        recordCheck(verifier, undefined),
        undefined,
        (f, ...a) => {
          logged.push([f, ...a].join(' '))
        },
      )
      return { ctx, verifier, early, logged }
    }
    const bare = () => join(server.root, 'records.git')

    it('drops its work when the fetch ends at another commit; the verifier keeps working', async () => {
      const { ctx, verifier, early, logged } = await setUp('early-other')
      const tip = (await systemGit(['rev-parse', 'main'], bare())).trim()
      await writeRef(ctx.gitdir, tip)
      const pack = await systemGit(['rev-parse', '--git-path', 'objects/pack'], bare())
      const name = (await readdir(join(bare(), pack.trim()))).find((n) => n.endsWith('.pack'))!
      early.onPack(join(ctx.gitdir, 'objects', 'pack', name), await readFile(join(bare(), pack.trim(), name)))
      expect(await early.resultFor('0'.repeat(40))).toBeUndefined()
      expect(logged).toEqual([]) // it had started: indexed, read and sent the records to the workers
      // Asked again (or for the right commit after that): nothing, the work was dropped.
      expect(await early.resultFor(tip)).toBeUndefined()
      await early.settle()
      const [again] = await verifier.verifyMany([{ bytes: records[0]!.bytes }])
      expect(again).toMatchObject({ status: 'fulfilled' })
      await verifier.close()
    })

    it('drops a pack it cannot index (the sync then checks as usual), saying why in the log', async () => {
      const { ctx, verifier, early, logged } = await setUp('early-corrupt')
      const tip = (await systemGit(['rev-parse', 'main'], bare())).trim()
      await writeRef(ctx.gitdir, tip)
      early.onPack(
        join(ctx.gitdir, 'objects', 'pack', `pack-${'1'.repeat(40)}.pack`),
        enc.encode('PACK but not really a pack, just text'),
      )
      expect(await early.resultFor(tip)).toBeUndefined()
      expect(logged.join('\n')).toMatch(/early check dropped.*unsupported pack version/)
      await verifier.close()
    })
  })
})

/** Points refs/remotes/origin/main at `oid` the way a fetch leaves it (a loose ref file). */
async function writeRef(gitdir: string, oid: string): Promise<void> {
  await mkdir(join(gitdir, 'refs', 'remotes', 'origin'), { recursive: true })
  await writeFile(join(gitdir, 'refs', 'remotes', 'origin', 'main'), `${oid}\n`)
}
