import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChainRegistry } from '../../registries/chain/types.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { buildRegistries } from '../../src/preset/buildRegistries.js'
import { checkConfig } from '../../src/preset/config.js'
import { generateSigner } from '../../src/trust/signer.js'
import { sampleDraft } from '../_helpers/records.js'

// The preset's `chain` kind: with no rpcUrl, a local anvil on 127.0.0.1 with the contract deployed,
// its state in the data dir (so a restarted mesh keeps its namespaces), stopped when the mesh closes.

let dir: string
const meshes: Mesh[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fmesh-chain-preset-'))
})
afterEach(async () => {
  for (const mesh of meshes.splice(0)) await mesh.close()
  rmSync(dir, { recursive: true, force: true })
})

const presetMesh = async (registries: unknown[]) => {
  const config = await checkConfig({ registries }, dir)
  const built = await buildRegistries(config, { oneShot: true })
  const mesh = await createMesh({ registries: built.registries, dataDir: built.dataDir })
  meshes.push(mesh)
  return { mesh, built }
}
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('preset kind chain', () => {
  it('with no rpcUrl starts a local anvil with the contract deployed; a restarted mesh on the same data dir keeps the namespace and resolves the record', async () => {
    const key = await generateSigner()
    const first = await presetMesh([{ type: 'chain' }])
    expect(first.built.describe[0]).toContain(
      `chain registry on a local anvil, state in ${join(dir, '.fmesh', 'chain')}`,
    )
    const chain = first.mesh.registry<ChainRegistry>('chain')
    await chain.claim('acme.com')
    await chain.addPublisher('acme.com', key.id)
    const published = await first.mesh.publish(sampleDraft('acme.com/image/sharpen'), { signer: key })
    const account = await chain.account()
    const address = chain.address
    meshes.splice(0)
    await first.mesh.close() // stops anvil, which writes its state

    const second = await presetMesh([{ type: 'chain' }])
    const again = second.mesh.registry<ChainRegistry>('chain')
    expect(again.address).toBe(address)
    expect(await again.namespace('acme.com')).toEqual({ owner: account, publishers: [key.id] })
    expect((await second.mesh.resolve('acme.com/image/sharpen@^1.2')).recordId).toBe(published.id)
    const listed: string[] = []
    for await (const name of again.list('acme.com/**')) listed.push(name)
    expect(listed).toEqual(['acme.com/image/sharpen'])
  })

  it('error: bad chain entries are E_CONFIG_INVALID naming the field', async () => {
    const path = async (registries: unknown[]) => {
      const err = await errorOf(
        checkConfig({ registries }, dir).then((config) => buildRegistries(config, { oneShot: true })),
      )
      expect(isMeshError(err, 'E_CONFIG_INVALID'), String(err)).toBe(true)
      return (err as { details: { path: string } }).details.path
    }
    expect(await path([{ type: 'chain', rpcUrl: 'http://127.0.0.1:1' }])).toBe('registries[0].address')
    expect(await path([{ type: 'chain', rpcUrl: 'ftp://x', address: `0x${'1'.repeat(40)}` }])).toBe(
      'registries[0].rpcUrl',
    )
    expect(await path([{ type: 'chain', pointer: 'cid' }])).toBe('registries[0].pointer')
    expect(await path([{ type: 'memory' }, { type: 'chain', ipfs: 'memory' }])).toBe('registries[1].ipfs')
    writeFileSync(join(dir, 'key.txt'), 'not a key\n')
    expect(await path([{ type: 'chain', signerKeyFile: 'key.txt' }])).toBe('registries[0].signerKeyFile')
    expect(await path([{ type: 'chain', signerKeyFile: 'missing.txt' }])).toBe('registries[0].signerKeyFile')
  })

  it('error: an rpcUrl that is down is E_CHAIN_RPC naming the URL when the mesh starts', async () => {
    const config = await checkConfig(
      { registries: [{ type: 'chain', rpcUrl: 'http://127.0.0.1:1', address: `0x${'1'.repeat(40)}` }] },
      dir,
    )
    const built = await buildRegistries(config, { oneShot: true })
    const err = await errorOf(createMesh({ registries: built.registries, dataDir: built.dataDir }))
    expect(isMeshError(err, 'E_CHAIN_RPC'), String(err)).toBe(true)
    expect((err as Error).message).toContain('http://127.0.0.1:1')
  })
})
