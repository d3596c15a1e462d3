import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { indexPackOffThread } from '../../registries/git/_indexPackOffThread.js'
import { ObjectReader } from '../../registries/git/_objectReader.js'
import { indexPack } from '../../registries/git/_packIndex.js'
import { commitFiles } from '../_helpers/seedRepo.js'
import { systemGit } from '../_helpers/systemGit.js'

/** The pack `git pack-objects --stdout` makes of the objects `revs` name (with extra flags). */
async function packOf(gitdir: string, flags: string[], revs = 'main\n'): Promise<Buffer> {
  const child = spawn('git', ['pack-objects', '--revs', '--stdout', '-q', ...flags], {
    cwd: gitdir,
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  })
  const chunks: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => chunks.push(d))
  child.stdin.end(revs)
  const code = await new Promise((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`git pack-objects exited with ${code}`)
  return Buffer.concat(chunks)
}

/** The object types (1-4, 6 ofs-delta, 7 ref-delta) of a pack's entries, read from their headers. */
function deltaTypes(pack: Buffer): Set<number> {
  const types = new Set<number>()
  let pos = 12
  for (let i = pack.readUInt32BE(8); i > 0; i--) {
    let byte = pack[pos++]!
    const type = (byte >> 4) & 7
    while (byte & 0x80) byte = pack[pos++]!
    if (type === 6) {
      do byte = pack[pos++]!
      while (byte & 0x80)
    } else if (type === 7) pos += 20
    types.add(type)
    const { engine } = inflateSync(pack.subarray(pos), { info: true }) as unknown as {
      engine: { bytesWritten: number }
    }
    pos += engine.bytesWritten
  }
  return types
}

describe('git pack indexer', () => {
  let root: string
  let gitdir: string
  const enc = new TextEncoder()
  const text = (i: number, v: number) =>
    new TextEncoder().encode(`${JSON.stringify({ n: i, v, pad: 'x'.repeat(300) + 'y'.repeat(i % 5) })}\n`)

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-packindex-'))
    gitdir = join(root, 'repo.git')
    await commitFiles(
      gitdir,
      Array.from({ length: 80 }, (_, i) => ({ path: `records/ns/${i % 4}/f${i}.json`, bytes: text(i, 1) })),
    )
    await commitFiles(
      gitdir,
      Array.from({ length: 40 }, (_, i) => ({ path: `records/ns/${i % 4}/f${i}.json`, bytes: text(i, 2) })),
      { message: 'second', timestamp: 1_700_000_100 },
    )
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  /** What `git index-pack` writes for `pack`. */
  async function gitIdx(pack: Buffer, name: string): Promise<Buffer> {
    const file = join(root, `${name}.pack`)
    await writeFile(file, pack)
    await systemGit(['index-pack', '-o', join(root, `${name}.idx`), file], root)
    return readFile(join(root, `${name}.idx`))
  }

  it('writes the idx git index-pack writes, for ofs-deltas (deep chains) and ref-deltas', async () => {
    const ofs = await packOf(gitdir, ['--delta-base-offset', '--window=250', '--depth=50'])
    const ref = await packOf(gitdir, ['--window=250', '--depth=50'])
    const undeltified = await packOf(gitdir, ['--window=0'])
    for (const [name, pack] of [
      ['ofs', ofs],
      ['ref', ref],
      ['plain', undeltified],
    ] as const) {
      const idx = indexPack(pack)
      expect(idx.equals(await gitIdx(pack, `check-${name}`)), name).toBe(true)
    }
    // The packs really hold deltas (and git accepts the idx written here with them).
    for (const [name, pack] of [
      ['ofs', ofs],
      ['ref', ref],
    ] as const) {
      expect(deltaTypes(pack), name).toContain(name === 'ofs' ? 6 : 7)
      await writeFile(join(root, `mine-${name}.idx`), indexPack(pack))
      await writeFile(join(root, `mine-${name}.pack`), pack)
      const verified = await systemGit(['verify-pack', '-v', join(root, `mine-${name}.idx`)], root)
      expect(verified).toMatch(/chain length = 1: \d+ objects/)
    }
  })

  it('gives the same idx on a worker thread, and the blob files under a folder of a commit', async () => {
    await commitFiles(
      gitdir,
      [
        { path: 'README.md', bytes: enc.encode('top\n') },
        { path: 'records/ns/notes.txt', bytes: enc.encode('not json\n') },
        { path: 'other/x.json', bytes: enc.encode('{}\n') },
      ],
      { message: 'third', timestamp: 1_700_000_200 },
    )
    const pack = await packOf(gitdir, ['--delta-base-offset', '--depth=50'])
    const commit = (await systemGit(['rev-parse', 'main'], gitdir)).trim()
    const { idx, files } = await indexPackOffThread(pack, { commit, dir: 'records', suffix: '.json' })
    expect(idx.equals(indexPack(pack))).toBe(true)
    const listed = (await systemGit(['ls-tree', '-r', 'main', 'records/'], gitdir))
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/))
      .filter(([, type, , path]) => type === 'blob' && path!.endsWith('.json'))
    expect(files!.paths).toEqual(listed.map(([, , , path]) => path))
    expect(files!.oids).toEqual(listed.map(([, , oid]) => oid))
    for (const [i, [, , oid]] of listed.entries()) {
      const bytes = files!.data.subarray(i === 0 ? 0 : files!.ends[i - 1], files!.ends[i])
      expect(bytes.toString()).toBe(await systemGit(['cat-file', 'blob', oid!], gitdir))
    }
    // A commit the pack does not hold: no files (the caller reads them another way).
    const absent = await indexPackOffThread(pack, { commit: '0'.repeat(40), dir: 'records', suffix: '.json' })
    expect(absent.files).toBeUndefined()
  })

  it('error: refuses a corrupt, truncated or thin pack, naming why', async () => {
    const pack = await packOf(gitdir, ['--delta-base-offset'])
    const flipped = Buffer.from(pack)
    flipped[200] = flipped[200]! ^ 0xff
    expect(() => indexPack(flipped)).toThrow(/checksum mismatch/)
    expect(() => indexPack(pack.subarray(0, pack.byteLength - 100))).toThrow(/checksum|ends after/)
    expect(() => indexPack(Buffer.from('not a pack at all, just some text'))).toThrow(/no PACK header/)
    await expect(indexPackOffThread(flipped)).rejects.toMatchObject({ name: 'PackIndexError' })
    // A thin pack (what a fetch may get): deltas against objects the receiver already has.
    const first = (await systemGit(['rev-parse', 'main~1'], gitdir)).trim()
    const thin = await packOf(gitdir, ['--thin', '--delta-base-offset'], `main\n^${first}\n`)
    expect(() => indexPack(thin)).toThrow(/thin pack: delta base [0-9a-f]{40} is not in it/)
  })

  it('serves a pack from its bytes before its .idx exists (ObjectReader.addPack)', async () => {
    const pack = await packOf(gitdir, ['--delta-base-offset', '--depth=50'])
    const other = join(root, 'empty.git')
    await systemGit(['init', '--quiet', '--bare', other])
    const reader = new ObjectReader(other)
    const blob = (await systemGit(['rev-parse', 'main:records/ns/1/f21.json'], gitdir)).trim()
    await expect(reader.readBlob(blob)).rejects.toThrow(/not in the repository/)
    reader.addPack(`pack-${pack.subarray(-20).toString('hex')}.pack`, pack)
    expect(new TextDecoder().decode(await reader.readBlob(blob))).toBe(
      await systemGit(['cat-file', 'blob', blob], gitdir),
    )
  })
})
