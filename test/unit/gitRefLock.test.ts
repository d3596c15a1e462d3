import { access, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareAndSwapRef, readRef, updateRef } from '../../registries/git/_refLock.js'
import { systemGit } from '../_helpers/systemGit.js'

const MAIN = 'refs/heads/main'
const opts = { registry: 'git-test' }

describe('git ref compare-and-swap (git update-ref protocol)', () => {
  let root: string
  let n = 0
  /** A new bare repository whose main holds `one`, and two more commits `two`, `three` on top. */
  let repo: () => Promise<{ gitdir: string; one: string; two: string; three: string }>
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-reflock-'))
    repo = async () => {
      const gitdir = join(root, `repo-${n++}.git`)
      await systemGit(['init', '--bare', '-q', '-b', 'main', gitdir])
      const git = (...args: string[]) => systemGit(['--git-dir', gitdir, ...args]).then((s) => s.trim())
      const empty = await git('hash-object', '-t', 'tree', '-w', '/dev/null')
      const one = await git('commit-tree', empty, '-m', 'one')
      const two = await git('commit-tree', empty, '-p', one, '-m', 'two')
      const three = await git('commit-tree', empty, '-p', two, '-m', 'three')
      await git('update-ref', MAIN, one)
      return { gitdir, one, two, three }
    }
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  const revParse = (gitdir: string, ref = MAIN) =>
    systemGit(['--git-dir', gitdir, 'rev-parse', ref]).then((s) => s.trim())
  const exists = (file: string) =>
    access(file).then(
      () => true,
      () => false,
    )

  it('moves a loose ref that holds the expected commit; system git reads the new value', async () => {
    const { gitdir, one, two } = await repo()
    expect(await readRef(gitdir, MAIN)).toBe(one)
    expect(await compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: two }, opts)).toBe(true)
    expect(await revParse(gitdir)).toBe(two)
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
    expect(await systemGit(['--git-dir', gitdir, 'fsck', '--no-progress', '--no-dangling'])).toBe('')
  })

  it('error: leaves a ref that moved (false), and no lock behind', async () => {
    const { gitdir, one, two, three } = await repo()
    await systemGit(['--git-dir', gitdir, 'update-ref', MAIN, two, one])
    expect(await compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: three }, opts)).toBe(false)
    expect(await revParse(gitdir)).toBe(two)
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
  })

  it('creates a ref that must not exist yet, and refuses to once it exists', async () => {
    const { gitdir, one, two } = await repo()
    const ref = 'refs/heads/team/new'
    expect(await readRef(gitdir, ref)).toBeUndefined()
    expect(await compareAndSwapRef(gitdir, { ref, from: undefined, to: one }, opts)).toBe(true)
    expect(await revParse(gitdir, ref)).toBe(one)
    expect(await compareAndSwapRef(gitdir, { ref, from: undefined, to: two }, opts)).toBe(false)
    expect(await revParse(gitdir, ref)).toBe(one)
  })

  it('reads and swaps a ref kept only in packed-refs (git pack-refs --all)', async () => {
    const { gitdir, one, two, three } = await repo()
    await systemGit(['--git-dir', gitdir, 'tag', '-a', '-m', 'peeled', 'v1', one])
    await systemGit(['--git-dir', gitdir, 'pack-refs', '--all'])
    expect(await exists(join(gitdir, MAIN))).toBe(false)
    expect(await readRef(gitdir, MAIN)).toBe(one)
    expect(await compareAndSwapRef(gitdir, { ref: MAIN, from: two, to: three }, opts)).toBe(false)
    expect(await compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: two }, opts)).toBe(true)
    // The loose ref now shadows the stale packed line, as git's own update-ref leaves it.
    expect(await revParse(gitdir)).toBe(two)
    expect(await readRef(gitdir, MAIN)).toBe(two)
  })

  it('of 16 concurrent swaps from one commit exactly one wins; the others see it moved', async () => {
    const { gitdir, one, two, three } = await repo()
    const targets = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? two : three))
    const results = await Promise.all(
      targets.map((to) => compareAndSwapRef(gitdir, { ref: MAIN, from: one, to }, opts)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await revParse(gitdir)).toBe(targets[results.indexOf(true)])
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
  })

  it('decides under the lock: a swap started meanwhile waits, then finds the ref moved', async () => {
    const { gitdir, one, two, three } = await repo()
    let decide!: (to: string) => void
    let entered!: () => void
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const update = updateRef(
      gitdir,
      MAIN,
      (current) => {
        expect(current).toBe(one)
        entered()
        return new Promise<string>((resolve) => {
          decide = resolve
        })
      },
      opts,
    )
    await inside
    const swap = compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: three }, { ...opts, waitMs: 60_000 })
    // Time for the swap to find the lock; without it, it would move main to three, then lost to two.
    await new Promise((resolve) => setTimeout(resolve, 20))
    decide(two)
    expect(await update).toBe(two)
    expect(await swap).toBe(false)
    expect(await revParse(gitdir)).toBe(two)
  })

  it('error: a decision that throws leaves the ref and removes the lock', async () => {
    const { gitdir, one } = await repo()
    const failing = updateRef(
      gitdir,
      MAIN,
      async () => {
        throw new Error('build failed')
      },
      opts,
    )
    await expect(failing).rejects.toThrow('build failed')
    expect(await revParse(gitdir)).toBe(one)
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
    expect(await updateRef(gitdir, MAIN, () => undefined, opts)).toBeUndefined()
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
  })

  it('waits for a lock another writer holds and swaps once it is gone', async () => {
    const { gitdir, one, two } = await repo()
    const lock = join(gitdir, `${MAIN}.lock`)
    await writeFile(lock, `${two}\n`)
    const swap = compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: two }, { ...opts, waitMs: 60_000 })
    let settled = false
    void swap.finally(() => {
      settled = true
    })
    // The holder finishes a little later; meanwhile the swap neither gives up nor goes ahead.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    await rm(lock)
    expect(await swap).toBe(true)
    expect(await revParse(gitdir)).toBe(two)
  })

  it('error: a lock that stays gives E_GIT_REF_LOCKED naming the file; an old lock is not taken over', async () => {
    const { gitdir, one, two } = await repo()
    const lock = join(gitdir, `${MAIN}.lock`)
    await writeFile(lock, '')
    // A day-old lock, as a crashed writer leaves it: still never removed nor overwritten.
    const since = new Date('2026-01-02T03:04:05Z')
    await utimes(lock, since, since)
    const err = await compareAndSwapRef(
      gitdir,
      { ref: MAIN, from: one, to: two },
      { ...opts, waitMs: 30 },
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'E_GIT_REF_LOCKED',
      details: { ref: MAIN, lock, lockedSince: since.toISOString() },
    })
    expect((err as Error).message.replaceAll(gitdir, '<gitdir>')).toMatchInlineSnapshot(`
      "Git registry git-test could not update refs/heads/main: <gitdir>/refs/heads/main.lock exists
        registry: git-test
        ref: refs/heads/main
        lock: <gitdir>/refs/heads/main.lock
        lockedSince: 2026-01-02T03:04:05.000Z

      Another fmesh or git process is updating this ref. If none is running, one crashed while holding the lock: remove the lock file and publish again."
    `)
    expect(await exists(lock)).toBe(true)
    expect(await revParse(gitdir)).toBe(one)
  })

  it('error: stops waiting for a lock when the signal aborts', async () => {
    const { gitdir, one, two } = await repo()
    await writeFile(join(gitdir, `${MAIN}.lock`), '')
    const controller = new AbortController()
    const swap = compareAndSwapRef(
      gitdir,
      { ref: MAIN, from: one, to: two },
      { ...opts, waitMs: 60_000, signal: controller.signal },
    )
    controller.abort()
    await expect(swap).rejects.toMatchObject({ code: 'E_ABORTED' })
  })

  it('error: removes its lock when reading the ref fails (a malformed ref, an unreadable packed-refs)', async () => {
    const { gitdir, one, two } = await repo()
    await writeFile(join(gitdir, MAIN), 'ref: refs/heads/elsewhere\n')
    await expect(compareAndSwapRef(gitdir, { ref: MAIN, from: one, to: two }, opts)).rejects.toMatchObject({
      code: 'E_GIT_REPOSITORY',
    })
    expect(await exists(join(gitdir, `${MAIN}.lock`))).toBe(false)
    const other = 'refs/heads/other'
    await mkdir(join(gitdir, 'packed-refs'))
    await expect(compareAndSwapRef(gitdir, { ref: other, from: one, to: two }, opts)).rejects.toMatchObject({
      code: 'EISDIR',
    })
    expect(await exists(join(gitdir, `${other}.lock`))).toBe(false)
  })
})
