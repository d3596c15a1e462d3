import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createMesh } from '../../src/mesh.js'
import { buildRegistries } from '../../src/preset/buildRegistries.js'
import { checkRegistryConfig } from '../../src/preset/checkRegistryConfig.js'
import { checkConfig, loadConfig } from '../../src/preset/config.js'
import { REGISTRY_KINDS } from '../../src/preset/registryKinds.js'
import type { RegistryKind } from '../../src/preset/types.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { rejection } from '../_helpers/rejection.js'

const message = async (value: unknown) => (await rejection(checkConfig(value, '/srv'))).shortMessage

describe('embedded preset: config', () => {
  it('knows the memory, git, ipfs and chain kinds', () => {
    expect(REGISTRY_KINDS.map((k) => k.type)).toEqual(['memory', 'git', 'ipfs', 'chain'])
  })

  it('checks each registry entry by its kind, resolving dataDir against the config directory', async () => {
    const config = await checkConfig(
      {
        dataDir: 'state',
        registries: [{ type: 'git', dir: 'r.git', branch: 'records' }, { type: 'memory' }],
      },
      '/srv/fmesh',
    )
    expect(config).toEqual({
      dataDir: '/srv/fmesh/state',
      baseDir: '/srv/fmesh',
      registries: [{ type: 'git', dir: 'r.git', branch: 'records' }, { type: 'memory' }],
    })
  })

  it('defaults to one local Git registry', async () => {
    expect((await checkConfig({}, '/srv')).registries).toEqual([{ type: 'git', id: 'git' }])
    expect((await loadConfig(undefined)).registries).toEqual([{ type: 'git', id: 'git' }])
  })

  it('error: an unknown registry type names the known types and the nearest', async () => {
    expect(await message({ registries: [{ type: 'memory' }, { type: 'gti' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[1].type: unknown registry type \`gti\`; did you mean \`git\`? (known types: memory, git, ipfs, chain)"`,
    )
    expect(await message({ registries: [{ type: 'ipfz' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].type: unknown registry type \`ipfz\`; did you mean \`ipfs\`? (known types: memory, git, ipfs, chain)"`,
    )
    expect(await message({ registries: [{ id: 'x' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].type: missing; known types: memory, git, ipfs, chain"`,
    )
    expect(await message({ registries: ['git'] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0]: must be an object with a \`type\`"`,
    )
  })

  it('an ipfs entry takes networked mode and followed IPNS names; a bad follow entry names its path', async () => {
    const ipfs = {
      type: 'ipfs',
      network: { listen: ['/ip4/127.0.0.1/tcp/4002'], bootstrap: [] },
      follow: ['/ipns/k51qzi5uqu5dhfej1u8e2knvgl63am1z37k0wsel1hgodze8pr517bg496u70y'],
      followTimeoutMs: 2000,
    }
    const config = await checkConfig({ registries: [ipfs] }, '/srv/fmesh')
    expect(config.registries).toEqual([ipfs])
    expect(await message({ registries: [{ type: 'ipfs', follow: ['example.com'] }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].follow[0]: an IPNS name (/ipns/k51...)"`,
    )
  })

  it("error: a bad field of a registry entry names its path and the kind's rule", async () => {
    expect(
      await message({ registries: [{ type: 'memory' }, { type: 'git', dir: 7 }] }),
    ).toMatchInlineSnapshot(
      `"Invalid configuration at registries[1].dir: Invalid input: expected string, received number"`,
    )
    expect(await message({ registries: [{ type: 'git', url: 'ftp://x.example' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].url: an http(s) URL"`,
    )
    expect(await message({ registries: [{ type: 'memory', id: 'Not An Id' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].id: an id of a-z, 0-9, ".", "_", "-""`,
    )
  })

  it('error: an unknown key names the nearest known one, in a registry entry and at the top', async () => {
    expect(await message({ registries: [{ type: 'git', dri: 'x' }] })).toMatchInlineSnapshot(
      `"Invalid configuration at registries[0].dri: unknown option \`dri\`; did you mean \`dir\`?"`,
    )
    expect(await message({ registris: [] })).toMatchInlineSnapshot(
      `"Invalid configuration at registris: unknown option \`registris\`; did you mean \`registries\`?"`,
    )
    expect(await message({ cache: { mux: 1 } })).toMatchInlineSnapshot(
      `"Invalid configuration at cache.mux: unknown option \`mux\`"`,
    )
  })

  it('a kind is one table entry: a third-party table is checked the same way', async () => {
    const kinds: RegistryKind[] = [
      {
        type: 'echo',
        load: async () => ({
          schema: z.strictObject({ type: z.literal('echo'), id: z.string().optional(), depth: z.number() }),
          describe: () => 'echo',
          create: async (_config, context) => () => memoryRegistry({ id: context.id }),
        }),
      },
    ]
    expect((await checkRegistryConfig({ type: 'echo', depth: 2 }, 0, kinds)).config).toEqual({
      type: 'echo',
      depth: 2,
    })
    const err = await rejection(checkRegistryConfig({ type: 'echo', depth: 'deep' }, 3, kinds))
    expect(err.details).toMatchObject({ path: 'registries[3].depth' })
    expect((await rejection(checkRegistryConfig({ type: 'git' }, 0, kinds))).shortMessage).toMatch(
      /known types: echo$/,
    )
  })
})

describe('embedded preset: buildRegistries', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fmesh-preset-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('names registries by kind and place, keeps Git data under dataDir, and resolves dir against baseDir', async () => {
    const built = await buildRegistries(
      {
        dataDir: join(dir, 'data'),
        baseDir: join(dir, 'conf'),
        registries: [
          { type: 'git' },
          { type: 'memory' },
          { type: 'git', dir: 'other.git' },
          { type: 'git', id: 'named' },
        ],
      },
      { oneShot: true },
    )
    expect(built.describe).toEqual([
      `git      git registry in ${join(dir, 'data', 'registry.git')} (local only)`,
      'memory-1 in-process memory registry',
      `git-2    git registry in ${join(dir, 'conf', 'other.git')} (local only)`,
      `named    git registry in ${join(dir, 'data', 'registry-3.git')} (local only)`,
    ])
    const mesh = closeAfter(await createMesh({ registries: built.registries, dataDir: join(dir, 'data') }))
    try {
      expect(mesh.registries.map((r) => r.id)).toEqual(['git', 'memory-1', 'git-2', 'named'])
    } finally {
      await mesh.close()
    }
  })
})
