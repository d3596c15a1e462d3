import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Signer } from '../trust/signer.js'
import { buildRegistries, type EmbeddedRegistries } from './buildRegistries.js'

/**
 * The demo's registries (`fmesh demo`, `npm start`): a Git registry in a fresh directory (the embedded
 * default) and an in-process mirror. `cleanup` removes the directory unless `dir` was given.
 */
export async function demoRegistries(options: {
  dir?: string
  signer?: Signer
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
    { oneShot: true, ...(options.signer ? { signer: options.signer } : {}) },
  )
  return {
    ...built,
    cleanup: async () => {
      if (own) await rm(dataDir, { recursive: true, force: true })
    },
  }
}
