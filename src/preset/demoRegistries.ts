import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Signer } from '../trust/signer.js'
import { buildRegistries, type EmbeddedRegistries } from './buildRegistries.js'

/**
 * The demo's registries (`fmesh demo`, `npm start`), all embedded in a fresh directory: a Git registry,
 * an IPFS registry on its own offline Helia node, a chain registry on a local anvil with the registry
 * contract deployed (namespaces are claimed on purpose: no auto-claim), and an in-process mirror the
 * demo tampers with. `cleanup` removes the directory unless `dir` was given.
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
        { type: 'ipfs', id: 'ipfs' },
        { type: 'chain', id: 'chain', autoClaim: false, pollIntervalMs: 50 },
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
