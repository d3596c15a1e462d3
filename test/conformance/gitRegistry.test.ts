import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { gitRegistry } from '../../registries/git/index.js'
import { runRegistryConformance } from '../../src/testing/registryConformance.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'

let root: string
let server: GitHttpServer
let repos = 0
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fmesh-git-conf-'))
  server = await startGitHttpServer({ root: join(root, 'srv') })
})
afterAll(async () => {
  await server?.stop()
  await rm(root, { recursive: true, force: true })
})

runRegistryConformance({
  name: 'gitRegistry (local repository only)',
  watch: true,
  setup: async () => gitRegistry({ dir: join(root, `local-${repos++}`), syncIntervalMs: 0 }),
})

runRegistryConformance({
  name: 'gitRegistry (HTTP remote)',
  watch: true,
  setup: async () => {
    const n = repos++
    const url = await server.createRepo(`records-${n}.git`)
    return gitRegistry({ dir: join(root, `clone-${n}`), url, syncIntervalMs: 0 })
  },
})
