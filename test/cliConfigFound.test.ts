import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_TEST_TIMEOUT_MS, cleanEnv, runCli } from './_helpers/cli.js'

let dir: string

const cli = (args: string[]) =>
  runCli(args, { cwd: dir, env: cleanEnv({ HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') }) })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmesh-config-found-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

// `namespace`, `node start` and `mcp` find ./fmesh.json as every other command does (they read only
// --config before): each refuses the broken config in the working directory, naming the file.
describe('fmesh namespace | node start | mcp without --config', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
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
