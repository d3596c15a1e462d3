import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gitContext } from '../../registries/git/_context.js'
import { indexFetchedPack } from '../../registries/git/_fetchedPack.js'
import { indexPack } from '../../registries/git/_packIndex.js'
import { gitRegistry } from '../../registries/git/index.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'

const enc = new TextEncoder()

/** The packs (and their idx files) in a bare repository. */
async function packsOf(gitdir: string): Promise<string[]> {
  return (await readdir(join(gitdir, 'objects', 'pack'))).sort()
}

/**
 * A fetch's pack is indexed by the registry (natively, off the fetching thread), not by
 * isomorphic-git's JavaScript indexer: the idx it writes is what `git index-pack` writes, for a
 * first sync and for a later fetch, and git itself reads the repository.
 */
describe('gitRegistry indexes what it fetches', () => {
  let root: string
  let server: GitHttpServer
  let owners: Record<string, string[]>
  let key: Awaited<ReturnType<typeof generateSigner>>
  const repo = () => join(server.root, 'records.git')

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-fetch-index-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    key = await generateSigner()
    owners = { 'acme.com': [key.id] }
    const records = await Promise.all(
      Array.from({ length: 60 }, (_, i) => signed(key, `acme.com/p/fn-${i}`, 1)),
    )
    await commitFiles(repo(), [
      { path: 'README.md', bytes: enc.encode('# records\n') },
      ...records.map((r) => ({ path: `records/${r.record.name}.json`, bytes: r.bytes })),
    ])
    // A packed, deltified repository, as `git gc` leaves a real one.
    await systemGit(['repack', '-adq', '--depth=50', '--window=250'], repo())
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('writes the idx git index-pack writes, on a first sync and a later fetch, and serves the records', async () => {
    const dir = join(root, 'clone')
    const registry = gitRegistry({ dir, url: server.url('records.git'), syncIntervalMs: 0 })(
      registryComponents({ trust: { owners } }),
    )
    try {
      await registry.start()
      await registry.verified()
      expect(registry.status()).toMatchObject({ names: 60, verified: 60, pending: 0 })
      const later = await signed(key, 'acme.com/p/fn-later', 1)
      await commitFiles(repo(), [{ path: `records/${later.record.name}.json`, bytes: later.bytes }], {
        message: 'later',
        timestamp: 1_700_000_100,
      })
      const report = await registry.sync()
      expect(report.changed).toEqual(['acme.com/p/fn-later'])
      expect(await registry.lookup('acme.com/p/fn-later')).toMatchObject({ bytes: later.bytes })
      const files = await packsOf(dir)
      const packs = files.filter((f) => f.endsWith('.pack'))
      expect(packs.length).toBe(2)
      expect(files.filter((f) => f.endsWith('.idx')).length).toBe(2)
      expect(files.some((f) => f.endsWith('.tmp'))).toBe(false)
      for (const pack of packs) {
        const mine = await readFile(join(dir, 'objects', 'pack', pack.replace(/\.pack$/, '.idx')))
        const check = join(root, `check-${pack}`)
        await writeFile(check, await readFile(join(dir, 'objects', 'pack', pack)))
        await systemGit(['index-pack', '-o', check.replace(/\.pack$/, '.idx'), check], root)
        expect(mine.equals(await readFile(check.replace(/\.pack$/, '.idx'))), pack).toBe(true)
      }
      await systemGit(['fsck', '--no-dangling', '--no-progress'], dir)
    } finally {
      await registry.stop()
    }
  })

  it('indexes a thin pack, which the native indexer refuses, with isomorphic-git against the objects held', async () => {
    const dir = join(root, 'thin.git')
    await systemGit(['clone', '--quiet', '--bare', server.url('records.git'), dir])
    const held = (await systemGit(['rev-parse', 'main'], dir)).trim()
    const extra = await signed(key, 'acme.com/p/fn-thin', 1)
    await commitFiles(repo(), [{ path: `records/${extra.record.name}.json`, bytes: extra.bytes }], {
      message: 'thin',
      timestamp: 1_700_000_200,
    })
    const data = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn('git', ['pack-objects', '--revs', '--thin', '--stdout', '-q'], { cwd: repo() })
      const chunks: Buffer[] = []
      child.stdout.on('data', (d: Buffer) => chunks.push(d))
      child.on('error', reject)
      child.on('close', (code) =>
        code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${code}`)),
      )
      child.stdin.end(`main\n^${held}\n`)
    })
    expect(() => indexPack(data)).toThrow(/thin pack/)
    const path = join(dir, 'objects', 'pack', `pack-${data.subarray(-20).toString('hex')}.pack`)
    await writeFile(path, data)
    const ctx = gitContext(dir)
    await indexFetchedPack(ctx, { path, data, tip: undefined }, undefined)
    expect(await packsOf(dir)).toContain(`pack-${data.subarray(-20).toString('hex')}.idx`)
    const blob = (await systemGit(['rev-parse', `main:records/${extra.record.name}.json`], repo())).trim()
    expect(await ctx.objects.readBlob(blob)).toEqual(new Uint8Array(extra.bytes))
  })
})
