import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runRegistryConformance } from 'function-mesh/testing'
import { afterAll, beforeAll } from 'vitest'
import { directoryRegistry } from './directoryRegistry.js'

// A registry written only against function-mesh/registry, tested only with function-mesh/testing.
let root: string
let n = 0
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-dir-registry-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

runRegistryConformance({
  name: 'directoryRegistry (test/examples)',
  watch: true,
  setup: async () => directoryRegistry({ dir: join(root, `r${n++}`) }),
})
