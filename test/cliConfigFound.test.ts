import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url).pathname
const run = promisify(execFile)
let dir: string

const cli = (args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') }
  delete env.FMESH_DATA_DIR
  delete env.FMESH_CONFIG
  return run(
    process.execPath,
    ['--import', join(root, 'node_modules/tsx/dist/esm/index.mjs'), join(root, 'src/cli/main.ts'), ...args],
    { cwd: dir, env },
  ).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  )
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmesh-config-found-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

// `namespace`, `node start` and `mcp` find ./fmesh.json as every other command does (they read only
// --config before): each refuses the broken config in the working directory, naming the file.
describe('fmesh namespace | node start | mcp without --config', () => {
  it('use ./fmesh.json: a bad registry type there is refused, naming the file', async () => {
    const file = join(dir, 'fmesh.json')
    await writeFile(file, '{ "registries": [{ "type": "gti" }] }\n')
    for (const args of [['namespace', 'show', 'acme.com'], ['node', 'start'], ['mcp']]) {
      const r = await cli(args)
      expect([args, r.code, r.stderr.split('\n')[0]]).toEqual([
        args,
        2,
        `error E_CONFIG_INVALID: Invalid configuration at ${file}: registries[0].type: unknown registry type \`gti\`; did you mean \`git\`? (known types: memory, git, ipfs, chain)`,
      ])
    }
    await writeFile(file, '{ "registries": [{ "type": "memory" }] }\n')
    const r = await cli(['namespace', 'show', 'acme.com'])
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([
      2,
      `error E_CHAIN_NOT_CONFIGURED: The config ${file} has no chain registry`,
    ])
  })
})
