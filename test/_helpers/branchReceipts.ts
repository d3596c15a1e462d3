import { execFile } from 'node:child_process'
import { systemGit } from './systemGit.js'

/** What a publish acknowledged: its receipt's location and the record bytes (as text) it published. */
export interface Acknowledged {
  readonly name: string
  /** `git:<commit>:<path>`, from the receipt. */
  readonly location: string
  readonly text: string
}

/**
 * Reads `branch` of the repository in `gitdir` with the system `git` and returns one line per
 * acknowledged record it does not hold as acknowledged: the receipt's commit is not on the branch,
 * `git show <commit>:<path>` differs from what was published, or the branch tip no longer has the
 * file with that content. An empty list means every receipt told the truth.
 */
export async function receiptsNotOnBranch(
  gitdir: string,
  branch: string,
  acknowledged: readonly Acknowledged[],
): Promise<string[]> {
  const onBranch = new Set((await git(gitdir, ['rev-list', branch])).trim().split('\n'))
  const atTip = new Map<string, string>()
  for (const line of (await git(gitdir, ['ls-tree', '-r', branch])).trim().split('\n')) {
    const [meta, path] = line.split('\t')
    atTip.set(path!, meta!.split(' ')[2]!)
  }
  const wanted = acknowledged.flatMap((a) => {
    const [, commit, path] = /^git:([0-9a-f]{40}):(.+)$/.exec(a.location) ?? []
    return [`${commit}:${path}`, `${atTip.get(path!) ?? 'missing'}`]
  })
  const shown = await catFiles(gitdir, wanted)
  const problems: string[] = []
  acknowledged.forEach((a, i) => {
    const commit = a.location.split(':')[1]!
    if (!onBranch.has(commit)) problems.push(`${a.name}: commit ${commit} is not on ${branch}`)
    if (shown[2 * i] !== a.text) problems.push(`${a.name}: ${a.location} does not hold what was published`)
    if (shown[2 * i + 1] !== a.text) problems.push(`${a.name}: the tip of ${branch} does not hold it`)
  })
  return problems
}

function git(gitdir: string, args: readonly string[]): Promise<string> {
  return systemGit(['--git-dir', gitdir, ...args])
}

/** The contents of each object (`<rev>:<path>` or an oid) from one `git cat-file --batch`; undefined if missing. */
async function catFiles(gitdir: string, objects: readonly string[]): Promise<(string | undefined)[]> {
  const out = await new Promise<Buffer>((resolve, reject) => {
    const child = execFile(
      'git',
      ['--git-dir', gitdir, 'cat-file', '--batch'],
      {
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
        env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1' },
      },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    )
    child.stdin!.end(`${objects.join('\n')}\n`)
  })
  const results: (string | undefined)[] = []
  let at = 0
  for (let i = 0; i < objects.length; i++) {
    const eol = out.indexOf(0x0a, at)
    const header = out.subarray(at, eol).toString('utf8')
    at = eol + 1
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      results.push(undefined)
      continue
    }
    const size = Number(header.split(' ')[2])
    results.push(out.subarray(at, at + size).toString('utf8'))
    at += size + 1
  }
  return results
}
