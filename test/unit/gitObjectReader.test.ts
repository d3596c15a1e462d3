import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ObjectReader } from '../../registries/git/_objectReader.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'

describe('git ObjectReader', () => {
  let root: string
  let gitdir: string
  let blobs: string[]
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-objreader-'))
    gitdir = join(root, 'repo.git')
    const text = (i: number, v: number) =>
      new TextEncoder().encode(`${JSON.stringify({ n: i, v, pad: 'x'.repeat(400) + 'y'.repeat(i % 7) })}\n`)
    await commitFiles(
      gitdir,
      Array.from({ length: 60 }, (_, i) => ({ path: `f/${i}.json`, bytes: text(i, 1) })),
    )
    await commitFiles(
      gitdir,
      Array.from({ length: 30 }, (_, i) => ({ path: `f/${i}.json`, bytes: text(i, 2) })),
    )
    // Deltify aggressively so reads go through ofs-delta chains.
    await systemGit(['repack', '-adfq', '--window=250', '--depth=50'], gitdir)
    blobs = (await systemGit(['rev-list', '--objects', '--all'], gitdir))
      .trim()
      .split('\n')
      .filter((l) => l.includes(' f/'))
      .map((l) => l.split(' ')[0]!)
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('reads every blob of a deltified pack exactly as git cat-file does', async () => {
    const reader = new ObjectReader(gitdir)
    expect(blobs.length).toBe(90)
    for (const oid of blobs) {
      const expected = await systemGit(['cat-file', 'blob', oid], gitdir)
      expect(new TextDecoder().decode(await reader.readBlob(oid))).toBe(expected)
    }
  })

  it('finds objects in packs added after its first read, and loose objects', async () => {
    const reader = new ObjectReader(gitdir)
    await reader.readBlob(blobs[0]!)
    await commitFiles(gitdir, [{ path: 'late.txt', bytes: new TextEncoder().encode('a late pack\n') }])
    const packed = (await systemGit(['rev-parse', 'main:late.txt'], gitdir)).trim()
    expect(new TextDecoder().decode(await reader.readBlob(packed))).toBe('a late pack\n')
    const file = join(root, 'loose.txt')
    await writeFile(file, 'a loose object\n')
    const loose = (await systemGit(['hash-object', '-w', file], gitdir)).trim()
    expect(new TextDecoder().decode(await reader.readBlob(loose))).toBe('a loose object\n')
  })

  it('skips a pack whose .idx or .pack is still being written, and reads it once both are whole', async () => {
    const reader = new ObjectReader(gitdir)
    await reader.readBlob(blobs[0]!)
    const packDir = join(gitdir, 'objects', 'pack')
    const before = new Set(await readdir(packDir))
    await commitFiles(gitdir, [{ path: 'half.txt', bytes: new TextEncoder().encode('half an index\n') }])
    await systemGit(['repack', '-dq'], gitdir) // the new loose objects into a pack of their own
    const idx = (await readdir(packDir)).find((n) => n.endsWith('.idx') && !before.has(n))!
    const oid = (await systemGit(['rev-parse', 'main:half.txt'], gitdir)).trim()
    const whole = await readFile(join(packDir, idx))
    // As a fetch in another process leaves it mid-write: the fanout table and a few ids.
    await writeFile(join(packDir, idx), whole.subarray(0, 8 + 256 * 4 + 30))
    await expect(reader.readBlob(oid)).rejects.toThrow(/not in the repository/)
    expect(new TextDecoder().decode(await reader.readBlob(blobs[1]!))).toBe(
      await systemGit(['cat-file', 'blob', blobs[1]!], gitdir),
    )
    await writeFile(join(packDir, idx), whole)
    // The same for the .pack, which a second fetch of the same objects writes again.
    const pack = join(packDir, idx.replace(/\.idx$/, '.pack'))
    const bytes = await readFile(pack)
    await writeFile(pack, bytes.subarray(0, bytes.byteLength - 10))
    await expect(new ObjectReader(gitdir).readBlob(oid)).rejects.toThrow(/not in the repository/)
    await writeFile(pack, bytes)
    expect(new TextDecoder().decode(await reader.readBlob(oid))).toBe('half an index\n')
  })

  it('error: names an object that is not in the repository', async () => {
    await expect(new ObjectReader(gitdir).readBlob('0'.repeat(40))).rejects.toThrow(/not in the repository/)
  })
})
