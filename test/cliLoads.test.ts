import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname

/**
 * Runs the CLI from source with test/_helpers/moduleLog.ts preloaded and returns its exit code and
 * the files it loaded (ESM resolutions and the CommonJS cache, symlinks as resolved by Node).
 */
async function cliLoads(
  args: string[],
  dir: string,
): Promise<{ code: number; stdout: string; stderr: string; files: string[] }> {
  const log = join(dir, `modules-${args[0]}-${Date.now()}.log`)
  const result = await run(
    process.execPath,
    ['--import', 'tsx', '--import', './test/_helpers/moduleLog.ts', 'src/cli/main.ts', ...args],
    { cwd: root, env: { ...process.env, FMESH_MODULE_LOG: log, FMESH_DATA_DIR: join(dir, 'data') } },
  ).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  )
  const files = new Set<string>()
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    if (line.startsWith('esm file://')) files.add(decodeURIComponent(new URL(line.slice(4)).pathname))
    else if (line.startsWith('cjs /')) files.add(line.slice(4))
  }
  return { ...result, files: [...files] }
}

const under = (files: string[], pkg: string) => files.filter((f) => f.includes(`/node_modules/${pkg}/`))

describe('fmesh CLI loads only what a command needs', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fmesh-loads-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keys new loads neither isomorphic-git nor better-sqlite3 (no registry kind, no mesh)', async () => {
    const { code, files } = await cliLoads(['keys', 'new', '--out', join(dir, 'me.jwk'), '--json'], dir)
    expect(code).toBe(0)
    // The log saw this run: the command's own module and its one dependency outside node: are in it.
    expect(files.some((f) => f.endsWith('/src/cli/keys.ts'))).toBe(true)
    expect(under(files, 'multiformats').length).toBeGreaterThan(0)
    expect(under(files, 'isomorphic-git')).toEqual([])
    expect(under(files, 'better-sqlite3')).toEqual([])
    expect(under(files, 'helia')).toEqual([])
    expect(files.filter((f) => f.includes('/registries/') || f.includes('/src/preset/'))).toEqual([])
  })

  it('ls on the default config builds the Git registry, so the same log shows isomorphic-git loaded (and not Ajv)', async () => {
    // A read never creates a registry (E_REGISTRY_MISSING): an empty bare repository stands for one.
    await run('git', ['init', '--quiet', '--bare', join(dir, 'data', 'registry.git')])
    const { code, stdout, files } = await cliLoads(['ls', '--json'], dir)
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ names: [] })
    expect(under(files, 'isomorphic-git').length).toBeGreaterThan(0)
    // Listing and resolving open no ledger, so SQLite stays unloaded; no IPFS registry, so no Helia;
    // no call's schema is checked, so no Ajv.
    expect(under(files, 'better-sqlite3')).toEqual([])
    expect(under(files, 'ajv')).toEqual([])
    expect(under(files, 'helia')).toEqual([])
    expect(under(files, '@helia')).toEqual([])
  })

  it('ls on a config with an IPFS registry loads Helia, and not isomorphic-git', async () => {
    const config = join(dir, 'ipfs.json')
    await writeFile(config, JSON.stringify({ registries: [{ type: 'ipfs', dir: 'ipfs-node' }] }))
    await mkdir(join(dir, 'ipfs-node'))
    const { code, stdout, files } = await cliLoads(['ls', '--config', config, '--json'], dir)
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ names: [] })
    expect(under(files, 'helia').length).toBeGreaterThan(0)
    expect(under(files, 'isomorphic-git')).toEqual([])
  })

  it('error: a bad IPFS registry entry is refused, naming its path, without loading Helia', async () => {
    const config = join(dir, 'bad-ipfs.json')
    await writeFile(config, JSON.stringify({ registries: [{ type: 'ipfs', ipnsKey: 'no spaces' }] }))
    const { code, stderr, files } = await cliLoads(['ls', '--config', config, '--json'], dir)
    expect(code).toBe(2)
    expect(JSON.parse(stderr).error).toMatchObject({
      code: 'E_CONFIG_INVALID',
      details: { path: `${config}: registries[0].ipnsKey` },
    })
    expect(under(files, 'helia')).toEqual([])
    expect(under(files, '@helia')).toEqual([])
  })

  it('error: a bad Git registry entry is refused, naming its path, without loading isomorphic-git', async () => {
    const config = join(dir, 'bad.json')
    await writeFile(config, JSON.stringify({ registries: [{ type: 'memory' }, { type: 'git', dir: 7 }] }))
    const { code, stderr, files } = await cliLoads(
      ['resolve', 'acme.com/x', '--config', config, '--json'],
      dir,
    )
    expect(code).toBe(2)
    expect(JSON.parse(stderr).error).toMatchObject({
      code: 'E_CONFIG_INVALID',
      details: { path: `${config}: registries[1].dir` },
    })
    expect(files.some((f) => f.endsWith('/registries/git/config.ts'))).toBe(true)
    expect(under(files, 'isomorphic-git')).toEqual([])
  })

  it('error: a bad chain registry entry is refused, naming its path, without loading ethers', async () => {
    const config = join(dir, 'bad-chain.json')
    await writeFile(
      config,
      JSON.stringify({ registries: [{ type: 'chain', rpcUrl: 'http://127.0.0.1:8545' }] }),
    )
    const { code, stderr, files } = await cliLoads(['ls', '--config', config, '--json'], dir)
    expect(code).toBe(2)
    expect(JSON.parse(stderr).error).toMatchObject({
      code: 'E_CONFIG_INVALID',
      details: { path: `${config}: registries[0].address` },
    })
    expect(files.some((f) => f.endsWith('/registries/chain/config.ts'))).toBe(true)
    expect(under(files, 'ethers')).toEqual([])
  })
})
