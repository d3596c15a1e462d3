import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import type { RegistryFactory } from '../components.js'
import { memoryRegistry } from '../registry/memoryRegistry.js'
import type { Registry } from '../registry/types.js'
import type { Signer } from '../trust/signer.js'
import type { TrustInit } from '../trust/types.js'
import type { LoadedConfig } from './config.js'

/** Registries built from config, with a line each for people. */
export interface EmbeddedRegistries {
  registries: (Registry | RegistryFactory)[]
  /** Where they keep their data. */
  dataDir: string
  describe: string[]
  cleanup(): Promise<void>
}

export interface BuildOptions {
  /** Signs the commits a Git registry makes when publishing. */
  signer?: Signer
  trust?: TrustInit
  /** Sync Git registries only on demand (one-shot commands). */
  oneShot?: boolean
}

/**
 * The embedded preset: the one module that wires `registries/` together with the core, for the CLI
 * and `npm start`. Each registry config becomes a running registry.
 */
export async function buildRegistries(
  config: LoadedConfig,
  options: BuildOptions = {},
): Promise<EmbeddedRegistries> {
  const registries: (Registry | RegistryFactory)[] = []
  const describe: string[] = []
  for (const [i, r] of config.registries.entries()) {
    if (r.type === 'memory') {
      const id = r.id ?? (i === 0 ? 'memory' : `memory-${i}`)
      registries.push(memoryRegistry({ id }))
      describe.push(`${id.padEnd(8)} in-process memory registry`)
      continue
    }
    const id = r.id ?? (i === 0 ? 'git' : `git-${i}`)
    const dir = r.dir ?? join(config.dataDir, i === 0 ? 'registry.git' : `registry-${i}.git`)
    registries.push(
      gitRegistry({
        id,
        dir,
        ...(r.url === undefined ? {} : { url: r.url }),
        ...(r.branch === undefined ? {} : { branch: r.branch }),
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.cloneDepth === undefined ? {} : { cloneDepth: r.cloneDepth }),
        syncIntervalMs: options.oneShot ? 0 : (r.syncIntervalMs ?? 60_000),
        ...(options.signer === undefined ? {} : { signer: options.signer }),
      }),
    )
    describe.push(`${id.padEnd(8)} git registry in ${dir}${r.url ? `, remote ${r.url}` : ' (local only)'}`)
  }
  return { registries, describe, dataDir: config.dataDir, cleanup: async () => {} }
}

/**
 * The demo's registries: a Git registry in a fresh directory (the embedded default) and an
 * in-process mirror.
 */
export async function demoRegistries(options: {
  dir?: string
  signer?: Signer
  trust?: TrustInit
}): Promise<EmbeddedRegistries> {
  const own = options.dir === undefined
  const dataDir = options.dir ?? (await mkdtemp(join(tmpdir(), 'fmesh-demo-')))
  const built = await buildRegistries(
    {
      dataDir,
      registries: [
        { type: 'git', id: 'git' },
        { type: 'memory', id: 'mirror' },
      ],
    },
    {
      oneShot: true,
      ...(options.signer ? { signer: options.signer } : {}),
      ...(options.trust ? { trust: options.trust } : {}),
    },
  )
  return {
    ...built,
    cleanup: async () => {
      if (own) await rm(dataDir, { recursive: true, force: true })
    },
  }
}
