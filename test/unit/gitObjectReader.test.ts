import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
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

  it('readBlobs gives each blob exactly as readBlob does, in input order, whatever the order asked', async () => {
    const expected = new Map<string, string>()
    const reference = new ObjectReader(gitdir)
    for (const oid of blobs) expected.set(oid, new TextDecoder().decode(await reference.readBlob(oid)))
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(blobs, { minLength: 1 }), async (oids) => {
        // A fresh reader each run: no delta base cached from an earlier read.
        const got = await new ObjectReader(gitdir).readBlobs(oids)
        expect(got.map((b) => (b instanceof Error ? b : new TextDecoder().decode(b)))).toEqual(
          oids.map((oid) => expected.get(oid)),
        )
      }),
      { numRuns: 50 },
    )
  })

  it('error: readBlobs settles a missing object and a non-blob on their own, the others still read', async () => {
    const tree = (await systemGit(['rev-parse', 'main^{tree}'], gitdir)).trim()
    const missing = '0'.repeat(40)
    const got = await new ObjectReader(gitdir).readBlobs([blobs[0]!, missing, tree, blobs[1]!])
    expect((got[1] as Error).message).toMatch(/not in the repository/)
    expect((got[2] as Error).message).toMatch(/is a tree, not a blob/)
    for (const i of [0, 3] as const)
      expect(new TextDecoder().decode(got[i] as Uint8Array)).toBe(
        await systemGit(['cat-file', 'blob', blobs[i === 0 ? 0 : 1]!], gitdir),
      )
  })

  it('packOrder sorts objects by their offset in the pack (git show-index), missing ones last', async () => {
    const reader = new ObjectReader(gitdir)
    const packDir = join(gitdir, 'objects', 'pack')
    const offsets = new Map<string, number>()
    for (const idx of (await readdir(packDir)).filter((n) => n.endsWith('.idx'))) {
      const shown = await new Promise<string>((resolve, reject) => {
        const child = spawn('git', ['show-index'], { stdio: ['pipe', 'pipe', 'inherit'] })
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
        })
        child.on('error', reject)
        child.on('close', () => resolve(out))
        readFile(join(packDir, idx)).then((bytes) => child.stdin.end(bytes), reject)
      })
      for (const line of shown.trim().split('\n')) {
        const [offset, oid] = line.split(' ')
        offsets.set(oid!, Number(offset))
      }
    }
    const asked = [...blobs.slice(0, 40)].reverse()
    const missing = 'f'.repeat(40)
    const sorted = await reader.packOrder([missing, ...asked], (oid) => oid)
    expect(sorted.at(-1)).toBe(missing)
    const got = sorted.slice(0, -1).map((oid) => offsets.get(oid)!)
    expect(got).toEqual([...got].sort((a, b) => a - b))
    expect(new Set(sorted)).toEqual(new Set([missing, ...asked]))
  })

  it('error: names an object that is not in the repository', async () => {
    await expect(new ObjectReader(gitdir).readBlob('0'.repeat(40))).rejects.toThrow(/not in the repository/)
  })
})
