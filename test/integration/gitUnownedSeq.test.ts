import { mkdtempSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chainRegistry } from '../../registries/chain/chainRegistry.js'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import type { ChainRegistry } from '../../registries/chain/types.js'
import { INDEX_STATE_FILE } from '../../registries/git/_indexState.js'
import { type GitRegistry, gitRegistry } from '../../registries/git/index.js'
import { createMesh } from '../../src/mesh.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import { generateSigner } from '../../src/trust/signer.js'
import { type Chain, startChain } from '../_helpers/chain.js'
import { signed } from '../_helpers/records.js'

// Someone who can push to a Git registry parks a record with a huge seq on a name of a namespace
// nobody owns yet. The Git index keeps the file (the mesh refuses it: E_NAMESPACE_UNOWNED) but its
// seq is no floor: once the namespace is claimed on chain, the owner's seq 1 is taken and resolves.

let chain: Chain
let dir: string
beforeAll(async () => {
  chain = await startChain()
  dir = mkdtempSync(join(tmpdir(), 'fmesh-git-unowned-'))
})
afterAll(async () => {
  await chain?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('git index: seqs of unowned namespaces are no floor', () => {
  it("a squatter's seq 1000 on an unclaimed namespace does not block the owner's seq 1, in the index saved, re-read from the tree, or in the mesh's seq ledger", async () => {
    const { address, blockNumber } = await deployRegistry(chain.wallets[9]!)
    const [owner, squatter] = [await generateSigner(), await generateSigner()]
    const name = 'acme.com/fn/parked'
    const seqLedger = memorySeqLedger()
    const open = () =>
      createMesh({
        registries: [
          chainRegistry({
            rpcUrl: chain.node.rpcUrl,
            address,
            fromBlock: blockNumber,
            cursor: false,
            signer: chain.node.accounts[0]!.privateKey,
            autoClaim: false,
          }),
          gitRegistry({ dir: join(dir, 'records.git'), syncIntervalMs: 0 }),
        ],
        seqLedger,
        dataDir: dir,
      })

    let mesh = await open()
    const git = () => mesh.registry<GitRegistry>('git')
    await git().publish(await signed(squatter, name, 1000))
    const refused = await mesh.resolve(name).catch((e: unknown) => e)
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe('E_NAMESPACE_UNOWNED')
    expect(seqLedger.highest(name)).toBeUndefined()

    // The namespace is claimed later; its owner starts at seq 1.
    const chainReg = mesh.registry<ChainRegistry>('chain')
    await chainReg.claim('acme.com')
    await chainReg.addPublisher('acme.com', owner.id)
    const first = await signed(owner, name, 1)
    await git().publish(first)
    expect((await mesh.resolve(name, { cache: 'refresh' })).recordId).toBe(first.id)
    expect(seqLedger.highest(name)).toBe(1)

    // Owned records are floors as before; and the squatter no longer gets in at all.
    await git().publish(await signed(owner, name, 2))
    const older = await git()
      .publish(await signed(owner, name, 1, { description: 'another seq 1' }))
      .catch((e: unknown) => e)
    expect((older as { code?: string }).code).toBe('E_PUBLISH_CONFLICT')
    const squatted = await git()
      .publish(await signed(squatter, name, 3))
      .catch((e: unknown) => e)
    expect((squatted as { code?: string }).code).toBe('E_SIGNER_NOT_OWNER')
    await mesh.close()

    // A fresh index read from the tree (no saved state) holds the owner's record, with its floor.
    unlinkSync(join(dir, 'records.git', INDEX_STATE_FILE))
    mesh = await open()
    await git().sync()
    expect((await mesh.resolve(name)).record.seq).toBe(2)
    await mesh.close()
  })

  it('among records of a namespace still unowned, rollback is refused as before (a mirror without trust keeps its protection), and the mesh refuses them all', async () => {
    const [a, b] = [await generateSigner(), await generateSigner()]
    const mesh = await createMesh({
      registries: [gitRegistry({ dir: join(dir, 'unowned.git'), syncIntervalMs: 0 })],
      dataDir: dir,
    })
    try {
      const git = mesh.registry<GitRegistry>('git')
      await git.publish(await signed(a, 'nobody.org/fn/x', 1000))
      const lower = await git.publish(await signed(b, 'nobody.org/fn/x', 3)).catch((e: unknown) => e)
      expect((lower as { code?: string }).code).toBe('E_PUBLISH_CONFLICT')
      const refused = await mesh.resolve('nobody.org/fn/x').catch((e: unknown) => e)
      expect((refused as { cause?: { code?: string } }).cause?.code).toBe('E_NAMESPACE_UNOWNED')
    } finally {
      await mesh.close()
    }
  })
})
