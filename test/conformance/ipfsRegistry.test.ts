import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHeliaLight } from 'helia'
import { afterAll, beforeAll } from 'vitest'
import { ipfsRegistry } from '../../registries/ipfs/index.js'
import { runRegistryConformance } from '../../src/testing/registryConformance.js'

let root: string
let dirs = 0
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-ipfs-conf-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

runRegistryConformance({
  name: 'ipfsRegistry (own Helia node on disk)',
  watch: true,
  setup: async () => ipfsRegistry({ dir: join(root, `node-${dirs++}`) }),
})

runRegistryConformance({
  name: 'ipfsRegistry (a given in-memory Helia node, small shards)',
  watch: true,
  setup: async () => {
    const helia = await createHeliaLight().start()
    return ipfsRegistry({ helia, shardSplitThresholdBytes: 256 })
  },
  teardown: async (registry) => {
    await (registry as ReturnType<ReturnType<typeof ipfsRegistry>>).helia?.stop()
  },
})
