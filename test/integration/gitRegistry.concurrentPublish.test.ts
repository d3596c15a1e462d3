import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { format } from 'node:util'
import debug from 'debug'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import type { PublishReceipt } from '../../src/registry/types.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type Acknowledged, receiptsNotOnBranch } from '../_helpers/branchReceipts.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { signed } from '../_helpers/records.js'
import { systemGit } from '../_helpers/systemGit.js'

const CHILD = fileURLToPath(new URL('../_helpers/publishChild.ts', import.meta.url))
const decoder = new TextDecoder()

/**
 * Counts the attempts that found the branch moved (the registry's debug log says so each time),
 * and the most attempts one publish took.
 */
function countRetries(): { readonly count: number; readonly mostAttempts: number; restore(): void } {
  const before = { log: debug.log, names: debug.disable() }
  let count = 0
  let mostAttempts = 1
  debug.enable('fmesh:registry:git:*')
  debug.log = (...args: unknown[]) => {
    const moved = /branch moved \(attempt (\d+)\)/.exec(format(...args))
    if (moved === null) return
    count++
    mostAttempts = Math.max(mostAttempts, Number(moved[1]) + 1)
  }
  return {
    get count() {
      return count
    },
    get mostAttempts() {
      return mostAttempts
    },
    restore() {
      debug.log = before.log
      debug.enable(before.names)
    },
  }
}

/**
 * Rounds of concurrent publishes: in each, every registry publishes `perRound` distinct records at
 * once (one registry's publishes queue behind each other; the registries race). Returns what was
 * acknowledged.
 */
async function publishRounds(
  registries: readonly GitRegistry[],
  signer: LocalSigner,
  rounds: { from?: number; to: number },
  perRound: number,
): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = []
  for (let round = rounds.from ?? 0; round < rounds.to; round++) {
    const work = registries.flatMap((registry) =>
      Array.from({ length: perRound }, (_, i) => ({
        registry,
        name: `acme.com/r${round}/${registry.id}-${i}`,
      })),
    )
    const records = await Promise.all(work.map(({ name }) => signed(signer, name, 1)))
    const receipts: PublishReceipt[] = await Promise.all(
      work.map(({ registry }, i) => registry.publish(records[i]!)),
    )
    receipts.forEach((receipt, i) => {
      acknowledged.push({
        name: work[i]!.name,
        location: receipt.location!,
        text: decoder.decode(records[i]!.bytes),
      })
    })
  }
  return acknowledged
}

interface ChildResult {
  readonly acknowledged: Acknowledged[]
  readonly failed: string[]
  readonly retries: number
  readonly mostAttempts: number
}

/** Starts `publishChild.ts`; `ready` once its registry is open, `go()` starts its publishes. */
function startChild(dir: string, prefix: string, count: number, url?: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, prefix, String(count), ...(url === undefined ? [] : [url])],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = createInterface({ input: child.stdout })
  const acknowledged: Acknowledged[] = []
  const failed: string[] = []
  let markReady: () => void
  let failReady: (err: Error) => void
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    failReady = reject
  })
  const done = new Promise<ChildResult>((resolve, reject) => {
    lines.on('line', (line) => {
      const value = JSON.parse(line) as
        | 'ready'
        | { done: true; retries: number; mostAttempts: number }
        | { name: string; error: string }
        | Acknowledged
      if (value === 'ready') markReady()
      else if ('done' in value)
        resolve({ acknowledged, failed, retries: value.retries, mostAttempts: value.mostAttempts })
      else if ('error' in value) failed.push(`${value.name}: ${value.error}`)
      else acknowledged.push(value)
    })
    child.on('exit', (code) => {
      if (code === 0) return
      const err = new Error(`publishChild ${prefix} exited with ${code}:\n${stderr}`)
      failReady(err)
      reject(err)
    })
  })
  // Awaited after `ready`; a child that dies first is reported there.
  done.catch(() => undefined)
  return { ready, done, go: () => child.stdin.end('go\n') }
}

describe('gitRegistry: concurrent publishers on one directory', () => {
  let root: string
  let signer: LocalSigner
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-concurrent-'))
    signer = await generateSigner()
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('two registry objects on one directory, 10 rounds of 2 x 4 concurrent publishes: every receipt is on the branch', async () => {
    const dir = join(root, 'objects')
    const registries = ['a', 'b'].map((id) =>
      gitRegistry({ id: `git-${id}`, dir, syncIntervalMs: 0 })(registryComponents()),
    )
    // Both open the empty directory at once: one creates the repository and its first commit.
    await Promise.all(registries.map((r) => r.start()))
    const retries = countRetries()
    let acknowledged: Acknowledged[]
    try {
      acknowledged = await publishRounds(registries, signer, { to: 10 }, 4)
    } finally {
      retries.restore()
    }
    expect(acknowledged).toHaveLength(80)
    expect(await receiptsNotOnBranch(dir, 'main', acknowledged)).toEqual([])
    // The registries did race: some publishes found the branch moved and were rebuilt on the new tip,
    // each at its second attempt (under the branch's lock), however often the other one published.
    expect(retries.count).toBeGreaterThan(0)
    expect(retries.mostAttempts).toBe(2)
    console.info(`two objects: 80 publishes, ${retries.count} rebuilt after the branch moved`)
    for (const registry of registries) {
      await registry.sync()
      expect(registry.status().names).toBe(80)
      await registry.stop()
    }
    // A new registry on the directory starts from the index state whichever writer saved last.
    const fresh = gitRegistry({ id: 'git-fresh', dir, syncIntervalMs: 0 })(registryComponents())
    for (const a of acknowledged) expect(decoder.decode((await fresh.lookup(a.name))?.bytes)).toBe(a.text)
    expect(fresh.status().names).toBe(80)
    expect(await systemGit(['--git-dir', dir, 'fsck', '--no-progress', '--no-dangling'])).toBe('')
  })

  it('registries opening one empty directory at once share one repository and one first commit', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = join(root, `fresh-${round}`)
      // Authors differ, so each would make a first commit of its own.
      const registries = Array.from({ length: 6 }, (_, i) =>
        gitRegistry({
          id: `git-${i}`,
          dir,
          syncIntervalMs: 0,
          author: { name: `writer ${i}`, email: `w${i}@example.test` },
        })(registryComponents()),
      )
      await Promise.all(registries.map((r) => r.start()))
      const tip = (await systemGit(['--git-dir', dir, 'rev-parse', 'main'])).trim()
      expect(registries.map((r) => r.status().commit)).toEqual(registries.map(() => tip))
      await Promise.all(registries.map((r) => r.stop()))
    }
  })

  it("opens a directory another writer is still creating (git init's folders, no HEAD yet)", async () => {
    const dir = join(root, 'half-created')
    for (const folder of ['hooks', 'info', 'objects/info', 'objects/pack', 'refs/heads', 'refs/tags'])
      await mkdir(join(dir, folder), { recursive: true })
    const registry = gitRegistry({ dir, syncIntervalMs: 0 })(registryComponents())
    await registry.start()
    expect((await systemGit(['--git-dir', dir, 'rev-parse', 'main'])).trim()).toBe(registry.status().commit)
    await registry.stop()
    // Anything else in the directory is still refused.
    const other = join(root, 'not-a-repository')
    await mkdir(join(other, 'hooks'), { recursive: true })
    await writeFile(join(other, 'notes.txt'), 'mine')
    await expect(
      gitRegistry({ dir: other, syncIntervalMs: 0 })(registryComponents()).start(),
    ).rejects.toMatchObject({
      code: 'E_GIT_REPOSITORY',
    })
  })

  it('two processes on one directory, 25 records each: every receipt is on the branch', async () => {
    const dir = join(root, 'processes')
    const children = ['p', 'q'].map((prefix) => startChild(dir, prefix, 25))
    await Promise.all(children.map((c) => c.ready))
    for (const c of children) c.go()
    const results = await Promise.all(children.map((c) => c.done))
    const acknowledged = results.flatMap((r) => r.acknowledged)
    expect(results.flatMap((r) => r.failed)).toEqual([])
    expect(acknowledged).toHaveLength(50)
    expect(Math.max(...results.map((r) => r.mostAttempts))).toBeLessThanOrEqual(2)
    expect(await receiptsNotOnBranch(dir, 'main', acknowledged)).toEqual([])
    console.info(
      `two processes: 50 publishes, ${results.map((r) => r.retries).join(' + ')} rebuilt after the branch moved, at most ${Math.max(...results.map((r) => r.mostAttempts))} attempts for one`,
    )
  }, 60_000)
})

describe('gitRegistry: concurrent publishers sharing one directory and a remote', () => {
  let root: string
  let server: GitHttpServer
  let url: string
  let signer: LocalSigner
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fmesh-git-concurrent-url-'))
    server = await startGitHttpServer({ root: join(root, 'srv') })
    url = await server.createRepo('records.git')
    signer = await generateSigner()
  })
  afterAll(async () => {
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('two registry objects on one directory with a remote: every receipt is on the remote, the local branch only moves forward', async () => {
    const dir = join(root, 'shared')
    // With a remote a lost push is retried after a fetch: at most one per publish the other has queued.
    const registries = ['a', 'b'].map((id) =>
      gitRegistry({ id: `git-${id}`, dir, url, syncIntervalMs: 0 })(registryComponents()),
    )
    await Promise.all(registries.map((r) => r.start()))
    const acknowledged: Acknowledged[] = []
    let local = (await systemGit(['--git-dir', dir, 'rev-parse', 'main'])).trim()
    for (let round = 0; round < 5; round++) {
      acknowledged.push(...(await publishRounds(registries, signer, { from: round, to: round + 1 }, 3)))
      const now = (await systemGit(['--git-dir', dir, 'rev-parse', 'main'])).trim()
      // merge-base --is-ancestor exits 1 (a rejection here) when `local` is not in the history of `now`.
      await systemGit(['--git-dir', dir, 'merge-base', '--is-ancestor', local, now])
      local = now
    }
    expect(acknowledged).toHaveLength(30)
    expect(await receiptsNotOnBranch(join(server.root, 'records.git'), 'main', acknowledged)).toEqual([])
    for (const registry of registries) await registry.sync()
    expect(await receiptsNotOnBranch(dir, 'main', acknowledged)).toEqual([])
    for (const registry of registries) await registry.stop()
  })

  it('two processes on one directory with a remote, 4 records each: every receipt is on the remote', async () => {
    const dir = join(root, 'shared-processes')
    const remote = await server.createRepo('processes.git')
    // 4 each: a lost push is retried after a fetch, and the other has at most 4 to land first,
    // so the default maxPushAttempts (5) always suffices.
    const children = ['p', 'q'].map((prefix) => startChild(dir, prefix, 4, remote))
    await Promise.all(children.map((c) => c.ready))
    for (const c of children) c.go()
    const results = await Promise.all(children.map((c) => c.done))
    const acknowledged = results.flatMap((r) => r.acknowledged)
    expect(results.flatMap((r) => r.failed)).toEqual([])
    expect(acknowledged).toHaveLength(8)
    expect(await receiptsNotOnBranch(join(server.root, 'processes.git'), 'main', acknowledged)).toEqual([])
    console.info(
      `two processes with a remote: 8 publishes, ${results.map((r) => r.retries).join(' + ')} pushes rejected and retried`,
    )
  }, 60_000)
})
