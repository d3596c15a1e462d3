import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Clock } from '../../src/clock.js'
import { importSigner, type LocalSigner, type PrivateKeyJwk } from '../../src/trust/signer.js'
import { systemGit } from './systemGit.js'

const fixtures = join(import.meta.dirname, '../../fixtures')

/**
 * The time the seed's records are checked at: they were issued 2026-01-01 and expire 2036-01-01, so a
 * test on the system clock would start failing in 2036. Tests that read the seed use this clock.
 */
export const seedClock: Clock = { now: () => Date.parse('2026-06-01T00:00:00.000Z') }

/** The test-only publisher keys of the seed's namespaces (fixtures/keys), and `trust.owners` for them. */
export async function seedKeys(): Promise<{
  signers: Record<string, LocalSigner>
  owners: Record<string, string[]>
}> {
  const signers: Record<string, LocalSigner> = {}
  for (const namespace of ['acme.com', 'beta.org']) {
    const jwk = JSON.parse(await readFile(join(fixtures, 'keys', `${namespace}.publisher.jwk.json`), 'utf8'))
    signers[namespace] = await importSigner(jwk as PrivateKeyJwk)
  }
  const owners = Object.fromEntries(Object.entries(signers).map(([ns, s]) => [ns, [s.id]]))
  return { signers, owners }
}

/** One file to write into a commit. */
export interface SeedFile {
  /** Path in the tree, e.g. `records/acme.com/image/sharpen.json`. */
  path: string
  bytes: Uint8Array
}

export interface CommitFilesOptions {
  /** @default 'main' */
  branch?: string
  /** @default 'Seed records' */
  message?: string
  /** Commit time in seconds. @default 1_700_000_000 */
  timestamp?: number
}

/**
 * Writes one commit holding `files` (on top of the branch when it exists) into the bare repository
 * `gitdir`, creating the repository when missing. Uses the system `git fast-import`, so 10,000 files
 * take well under a second.
 */
export async function commitFiles(
  gitdir: string,
  files: readonly SeedFile[],
  options: CommitFilesOptions = {},
): Promise<string> {
  const branch = options.branch ?? 'main'
  await systemGit(['init', '--quiet', '--bare', `--initial-branch=${branch}`, gitdir])
  const parent = await systemGit(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], gitdir).then(
    (out) => out.trim(),
    () => '',
  )
  const chunks: Buffer[] = []
  files.forEach((file, i) => {
    chunks.push(
      Buffer.from(`blob\nmark :${i + 1}\ndata ${file.bytes.byteLength}\n`),
      Buffer.from(file.bytes),
      Buffer.from('\n'),
    )
  })
  const message = Buffer.from(options.message ?? 'Seed records')
  const when = options.timestamp ?? 1_700_000_000
  chunks.push(
    Buffer.from(`commit refs/heads/${branch}\ncommitter Seed <seed@function-mesh.invalid> ${when} +0000\n`),
    Buffer.from(`data ${message.byteLength}\n`),
    message,
    Buffer.from('\n'),
  )
  if (parent !== '') chunks.push(Buffer.from(`from ${parent}\n`))
  files.forEach((file, i) => {
    chunks.push(Buffer.from(`M 100644 :${i + 1} ${file.path}\n`))
  })
  chunks.push(Buffer.from('\n'))
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet'], {
      cwd: gitdir,
      env: {
        PATH: process.env.PATH,
        GIT_DIR: gitdir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`git fast-import failed: ${stderr}`)),
    )
    child.stdin.end(Buffer.concat(chunks))
  })
  await systemGit(['config', 'http.receivepack', 'true'], gitdir)
  return (await systemGit(['rev-parse', `refs/heads/${branch}`], gitdir)).trim()
}

/** Every file under `dir` (recursively) as seed files, with paths relative to `dir` in `/` form. */
export async function readSeedFiles(dir: string): Promise<SeedFile[]> {
  const out: SeedFile[] = []
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile())
        out.push({ path: relative(dir, path).split(sep).join('/'), bytes: await readFile(path) })
    }
  }
  await walk(dir)
  return out.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/**
 * Builds a bare repository from `fixtures/git-seed/` (its README.md and records/ tree) in one
 * commit, and returns the commit id. The seed is stored as plain files, never as a nested .git.
 *
 * @example
 * ```ts
 * await seedRepo(join(server.root, 'seed.git'))
 * const registry = gitRegistry({ dir, url: server.url('seed.git'), trust: { owners: seedOwners } })(registryComponents())
 * ```
 */
export async function seedRepo(gitdir: string, seedDir = join(fixtures, 'git-seed')): Promise<string> {
  return commitFiles(gitdir, await readSeedFiles(seedDir), { message: 'Seed function-mesh example records' })
}
