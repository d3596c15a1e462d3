import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INDEX_STATE_FILE, loadIndexState, saveIndexState } from '../../registries/git/_indexState.js'
import { RecordIndex } from '../../registries/git/_recordIndex.js'

const oid = (c: string) => c.repeat(40)

/** An index of `size` names, every entry accepted at `commit`. */
function indexOf(commit: string, size: number): RecordIndex {
  const index = new RecordIndex()
  for (let i = 0; i < size; i++) {
    const name = `acme.com/fn/n-${i}`
    index.accept(name, {
      oid: oid('b'),
      seq: i + 1,
      id: `id-${commit}-${i}`,
      path: `records/${name}.json`,
      commit,
    })
  }
  return index
}

describe('git registry index state (fmesh-index.json)', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-index-state-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('saves from two writers at once leave one whole save, never a mix, and no temporary files', async () => {
    const gitdir = join(root, 'race')
    await mkdir(gitdir)
    // Sizes differ, so a torn or interleaved file would not parse or would mix entries.
    const a = indexOf(oid('a'), 400)
    const c = indexOf(oid('c'), 30)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        saveIndexState(gitdir, { commit: i % 2 ? oid('a') : oid('c'), branch: 'main' }, i % 2 ? a : c),
      ),
    )
    expect(await readdir(gitdir)).toEqual([INDEX_STATE_FILE])
    const loaded = new RecordIndex()
    const commit = await loadIndexState(gitdir, 'main', loaded)
    expect([oid('a'), oid('c')]).toContain(commit)
    const expected = commit === oid('a') ? a : c
    expect(loaded.entries).toEqual(expected.entries)
    expect(loaded.highest).toEqual(expected.highest)
    expect([...loaded.entries.values()].every((e) => e.commit === commit)).toBe(true)
  })

  it('does not load a state saved for another branch; loads one saved before branches were recorded', async () => {
    const gitdir = join(root, 'branches')
    await mkdir(gitdir)
    await saveIndexState(gitdir, { commit: oid('a'), branch: 'dev' }, indexOf(oid('a'), 3))
    const other = new RecordIndex()
    expect(await loadIndexState(gitdir, 'main', other)).toBeUndefined()
    expect(other.entries.size).toBe(0)
    expect(await loadIndexState(gitdir, 'dev', new RecordIndex())).toBe(oid('a'))
    const file = join(gitdir, INDEX_STATE_FILE)
    const older = JSON.parse(await readFile(file, 'utf8'))
    delete older.branch
    await writeFile(file, JSON.stringify(older))
    expect(await loadIndexState(gitdir, 'main', new RecordIndex())).toBe(oid('a'))
  })
})
