import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitRegistry } from '../../registries/git/index.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { type GitHttpServer, startGitHttpServer } from '../_helpers/gitHttpServer.js'
import { runRegistryConformance } from './registryConformance.js'

let localDir: string
runRegistryConformance({
  name: 'gitRegistry (local repository only)',
  setup: async () => {
    localDir = await mkdtemp(join(tmpdir(), 'fmesh-git-conf-'))
    const registry = gitRegistry({ dir: join(localDir, 'repo'), syncIntervalMs: 0 })(registryComponents())
    await registry.start()
    return registry
  },
  teardown: async (registry) => {
    await registry.stop?.()
    await rm(localDir, { recursive: true, force: true })
  },
})

let remoteDir: string
let server: GitHttpServer
runRegistryConformance({
  name: 'gitRegistry (HTTP remote)',
  setup: async () => {
    remoteDir = await mkdtemp(join(tmpdir(), 'fmesh-git-conf-http-'))
    server = await startGitHttpServer({ root: join(remoteDir, 'srv') })
    const url = await server.createRepo('records.git')
    const registry = gitRegistry({ dir: join(remoteDir, 'clone'), url, syncIntervalMs: 0 })(
      registryComponents(),
    )
    await registry.start()
    return registry
  },
  teardown: async (registry) => {
    await registry.stop?.()
    await server.stop()
    await rm(remoteDir, { recursive: true, force: true })
  },
})
