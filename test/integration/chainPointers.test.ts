import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, sha256, toUtf8Bytes } from 'ethers'
import { CID } from 'multiformats/cid'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import { REGISTRY_ABI } from '../../registries/chain/registryArtifact.js'
import type { ChainRegistry, ChainRegistryInit } from '../../registries/chain/types.js'
import { ipfsRegistry } from '../../registries/ipfs/ipfsRegistry.js'
import type { IpfsRegistry } from '../../registries/ipfs/types.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type Chain, chainRegistryOn, nameHash, startChain } from '../_helpers/chain.js'
import { sampleDraft } from '../_helpers/records.js'

// CID pointers: a chain registry with the mesh's ipfsRegistry (real Helia) as its content store puts
// the canonical bytes there and anchors their CID; a lookup fetches them by CID and checks the digest.

let chain: Chain
let address: string
let fromBlock: number
let key: LocalSigner
let dir: string
const meshes: Mesh[] = []

beforeAll(async () => {
  chain = await startChain()
})
afterAll(() => chain?.stop())
beforeEach(async () => {
  ;({ address, blockNumber: fromBlock } = await deployRegistry(chain.wallets[9]!))
  key = await generateSigner()
  dir = mkdtempSync(join(tmpdir(), 'fmesh-chain-ptr-'))
})
afterEach(async () => {
  for (const mesh of meshes.splice(0)) await mesh.close()
  rmSync(dir, { recursive: true, force: true })
})

const onChain = (init: Partial<ChainRegistryInit> & { account?: number } = {}) =>
  chainRegistryOn(chain, { address, fromBlock }, { cursor: false, ...init })
/** A mesh of an IPFS registry on `ipfsDir` and a chain registry whose content store it is. */
const meshWith = async (ipfsDir: string, init: Partial<ChainRegistryInit> & { account?: number } = {}) => {
  const ipfs = ipfsRegistry({ dir: ipfsDir })
  const mesh = await createMesh({
    registries: [onChain({ contentStore: ipfs, ...init }), ipfs],
    dataDir: dir,
  })
  meshes.push(mesh)
  return mesh
}
const close = async (mesh: Mesh) => {
  meshes.splice(meshes.indexOf(mesh), 1)
  await mesh.close()
}
/** A draft whose canonical bytes are well over the 4 KiB an anchor holds inline. */
const bigDraft = (name: string) => sampleDraft(name, { description: 'x'.repeat(2048) })
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('chain CID pointers through the IPFS registry', () => {
  it('a record over the inline limit is stored in the IPFS registry and anchored by CID; a fresh mesh on the same node resolves it, the digest checked against the chain', async () => {
    const ipfsDir = join(dir, 'ipfs')
    const publisher = await meshWith(ipfsDir, { account: 0 })
    const owner = publisher.registry<ChainRegistry>('chain')
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    // Only to the chain: the IPFS registry's own index never hears of it, its blocks do.
    const published = await publisher.publish(bigDraft('acme.com/image/big'), { signer: key, to: 'chain' })
    expect(await publisher.registry<IpfsRegistry>('ipfs').lookup('acme.com/image/big')).toBeUndefined()
    const contract = new Contract(address, REGISTRY_ABI, chain.provider)
    const anchor = await contract.getFunction('anchorOf')(nameHash('acme.com/image/big'))
    expect(anchor.pointerKind).toBe(1n)
    const cid = Buffer.from(anchor.pointer.slice(2), 'hex').toString('utf8')
    // A raw block of the canonical bytes: the record id's multihash (sha-256), another codec.
    expect(CID.parse(cid).code).toBe(0x55)
    expect(CID.parse(cid).multihash.bytes).toEqual(CID.parse(published.id).multihash.bytes)
    await close(publisher)

    const reader = await meshWith(ipfsDir)
    const result = await reader.resolve('acme.com/image/big@^1.2')
    expect(result.recordId).toBe(published.id)
    expect(result.record.description).toHaveLength(2048)
    expect(result.source).toMatchObject({ registry: 'chain' })
  })

  it("pointer 'cid' anchors even a small record by CID", async () => {
    const mesh = await meshWith(join(dir, 'ipfs'), { account: 0, pointer: 'cid' })
    const owner = mesh.registry<ChainRegistry>('chain')
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const published = await mesh.publish(sampleDraft('acme.com/image/small'), { signer: key, to: 'chain' })
    const contract = new Contract(address, REGISTRY_ABI, chain.provider)
    expect((await contract.getFunction('anchorOf')(nameHash('acme.com/image/small'))).pointerKind).toBe(1n)
    expect((await mesh.resolve('acme.com/image/small', { cache: 'refresh' })).recordId).toBe(published.id)
  })

  it('error: E_CHAIN_POINTER_UNAVAILABLE when the content store does not hold the CID (another IPFS node), and E_CHAIN_DIGEST_MISMATCH when the CID leads to other bytes', async () => {
    const publisher = await meshWith(join(dir, 'ipfs-a'), { account: 0 })
    const owner = publisher.registry<ChainRegistry>('chain')
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const published = await publisher.publish(bigDraft('acme.com/image/big'), { signer: key, to: 'chain' })

    const elsewhere = await meshWith(join(dir, 'ipfs-b'))
    const missing = await errorOf(elsewhere.registry<ChainRegistry>('chain').lookup('acme.com/image/big'))
    expect(isMeshError(missing, 'E_CHAIN_POINTER_UNAVAILABLE'), String(missing)).toBe(true)
    const anchor = await new Contract(address, REGISTRY_ABI, chain.provider).getFunction('anchorOf')(
      nameHash('acme.com/image/big'),
    )
    expect((missing as Error).message).toContain(Buffer.from(anchor.pointer.slice(2), 'hex').toString('utf8'))
    expect(anchor.recordDigest).toBe(
      `0x${Buffer.from(CID.parse(published.id).multihash.digest).toString('hex')}`,
    )
    expect((missing as Error).message).toContain('the content store does not hold it')

    // An anchor whose CID leads to bytes other than its digest's (written with a raw transaction).
    const other = await publisher.registry<IpfsRegistry>('ipfs').contentStore.put(toUtf8Bytes('other bytes'))
    const raw = new Contract(address, REGISTRY_ABI, chain.wallets[0]!)
    const digest = sha256(toUtf8Bytes('not the other bytes'))
    await (
      await raw.getFunction('publish')('acme.com/image/forged', 1, digest, digest, 1, toUtf8Bytes(other))
    ).wait()
    const forged = await errorOf(publisher.registry<ChainRegistry>('chain').lookup('acme.com/image/forged'))
    expect(isMeshError(forged, 'E_CHAIN_DIGEST_MISMATCH'), String(forged)).toBe(true)

    // A pointer that is no CID at all.
    await (
      await raw.getFunction('publish')('acme.com/image/junk', 1, digest, digest, 1, toUtf8Bytes('not-a-cid'))
    ).wait()
    const junk = await errorOf(publisher.registry<ChainRegistry>('chain').lookup('acme.com/image/junk'))
    expect(isMeshError(junk, 'E_CHAIN_POINTER_UNAVAILABLE'), String(junk)).toBe(true)
    expect((junk as Error).message).toContain('the pointer is not a CID')
  })

  it("error: pointer 'cid' without a content store, and a content store that is neither, are E_CONFIG_INVALID at once", () => {
    const code = (init: Partial<ChainRegistryInit>) => {
      try {
        onChain(init)
        return 'accepted'
      } catch (err) {
        return isMeshError(err) ? err.code : String(err)
      }
    }
    expect(code({ pointer: 'cid' })).toBe('E_CONFIG_INVALID')
    expect(code({ pointer: 'ipfs' as never })).toBe('E_CONFIG_INVALID')
    expect(code({ contentStore: { put: 1 } as never })).toBe('E_CONFIG_INVALID')
  })
})
