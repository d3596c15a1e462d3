import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import type { ChainRegistry, ChainRegistryInit } from '../../registries/chain/types.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import type { RegistryChange } from '../../src/registry/types.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type Chain, chainRegistryOn, startChain } from '../_helpers/chain.js'
import { signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'

// The chain registry's event follower over a real anvil: a cursor file that a restarted registry
// resumes from, confirmations, and reorgs (evm_snapshot / evm_revert) undoing what removed logs did.

let chain: Chain
let address: string
let fromBlock: number
let key: LocalSigner
let dir: string
const stops: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  chain = await startChain()
})
afterAll(() => chain?.stop())
beforeEach(async () => {
  ;({ address, blockNumber: fromBlock } = await deployRegistry(chain.wallets[9]!))
  key = await generateSigner()
  dir = mkdtempSync(join(tmpdir(), 'fmesh-chain-watch-'))
})
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  rmSync(dir, { recursive: true, force: true })
})

/** A chain registry factory on this test's contract (its cursor in the data dir unless given). */
const onChain = (init: Partial<ChainRegistryInit> & { account?: number } = {}) =>
  // syncs come from the test, not the timer
  chainRegistryOn(chain, { address, fromBlock }, { pollIntervalMs: 60_000, ...init })
/** A chain registry used without a mesh, over `seqLedger`, with this test's data dir. */
const registryOf = (
  init: Partial<ChainRegistryInit> & { account?: number } = {},
  seqLedger = memorySeqLedger(),
) => {
  const components = registryComponents({ trust: { owners: {} }, seqLedger, dataDir: dir })
  const registry = onChain(init)(components)
  stops.push(
    () => components.close(),
    () => registry.stop(),
  )
  return registry
}
const meshOf = async (init: Parameters<typeof createMesh>[0]) => {
  const mesh = await createMesh({ dataDir: dir, ...init })
  stops.push(() => mesh.close())
  return mesh
}
/** The owner of acme.com with `key` as its publisher key. */
const acmeOwner = async () => {
  const owner = registryOf({ account: 0, cursor: false })
  await owner.claim('acme.com')
  await owner.addPublisher('acme.com', key.id)
  return owner
}
/** Every change `registry.watch` yields until one names `last`; the changes before it. */
const changesUntil = (registry: ChainRegistry, last: string) => {
  const controller = new AbortController()
  return (async () => {
    const seen: RegistryChange[] = []
    for await (const change of registry.watch({ signal: controller.signal })) {
      if (change.names.includes(last)) break
      seen.push(change)
    }
    controller.abort()
    return seen
  })()
}
const rpc = (method: string, ...params: unknown[]) => chain.provider.send(method, params)

describe('chainRegistry watch: restarts', () => {
  it('a restarted registry resumes after the last block it processed: the events since arrive once, the earlier ones never again', async () => {
    const owner = await acmeOwner()
    await owner.publish(await signed(key, 'acme.com/fn/before', 1))
    const cursor = join(dir, 'cursor.json')

    const first = registryOf({ cursor })
    const firstSeen = changesUntil(first, 'acme.com/fn/before')
    await first.start()
    await firstSeen
    const processed = first.processedBlock!
    expect(processed).toBe(await chain.provider.getBlockNumber())
    await first.stop()

    await owner.publish(await signed(key, 'acme.com/fn/while-down', 1))
    await owner.publish(await signed(key, 'acme.com/fn/while-down', 2))

    const ledger = memorySeqLedger()
    const second = registryOf({ cursor }, ledger)
    // The cursor's anchored seqs are floors once start has found its last block still on the chain.
    await second.start()
    expect(ledger.highest('acme.com/fn/before')).toBe(1)
    expect(ledger.highest('acme.com/fn/while-down')).toBe(2)
    // Watched after start: what the start read since the cursor is kept for the first watcher.
    const secondSeen = changesUntil(second, 'acme.com/fn/after')
    await owner.publish(await signed(key, 'acme.com/fn/after', 1))
    await second.sync()
    const names = (await secondSeen).flatMap((c) => c.names)
    expect(names).toEqual(['acme.com/fn/while-down'])
    expect(second.processedBlock).toBe(await chain.provider.getBlockNumber())
    const listed: string[] = []
    for await (const name of second.list('acme.com/**')) listed.push(name)
    expect(listed.sort()).toEqual(['acme.com/fn/after', 'acme.com/fn/before', 'acme.com/fn/while-down'])
  })

  it("events invalidate another mesh's cache: a new anchor drops the cached resolve, and the next resolve has the new seq", async () => {
    const owner = await acmeOwner()
    await owner.publish(await signed(key, 'acme.com/fn/fresh', 1))
    const mesh = await meshOf({ registries: [onChain({ pollIntervalMs: 20 })] })
    expect((await mesh.resolve('acme.com/fn/fresh')).record.seq).toBe(1)
    expect(mesh.cache.size).toBe(1)
    await owner.publish(await signed(key, 'acme.com/fn/fresh', 2))
    // The record's TTL is 300 s: only the reader's poll of RecordAnchored drops it.
    await until(() => mesh.cache.size === 0, { what: 'the cached resolve to be dropped' })
    expect((await mesh.resolve('acme.com/fn/fresh')).record.seq).toBe(2)
  })

  it('error: a corrupt cursor file is E_CHAIN_CURSOR naming the file at start', async () => {
    const cursor = join(dir, 'bad.json')
    writeFileSync(cursor, '{"version": 1, "lastBlock": "x"}')
    const err = await registryOf({ cursor })
      .start()
      .catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_CURSOR'), String(err)).toBe(true)
    expect((err as Error).message).toContain(cursor)
  })
})

describe('chainRegistry watch: confirmations', () => {
  it('confirmations on an automining node do not wait forever (its head counts as confirmed); with mining off, events and lookups wait for the blocks', async () => {
    const owner = await acmeOwner()
    // The known bug: a publish with confirmations waited for blocks an automining node never makes.
    const confirmed = registryOf({ account: 0, confirmations: 2, cursor: false })
    await confirmed.publish(await signed(key, 'acme.com/fn/confirmed', 1))
    const reader = registryOf({ confirmations: 2 })
    await reader.start()
    const atStart = reader.processedBlock!
    expect(atStart).toBe(await chain.provider.getBlockNumber())
    expect(await reader.anchoredSeq('acme.com/fn/confirmed')).toBe(1)

    await rpc('evm_setAutomine', false)
    try {
      const publishing = owner.publish(await signed(key, 'acme.com/fn/confirmed', 2))
      await until(async () => Number((await rpc('txpool_status')).pending) > 0, {
        what: 'the publish to reach the pool',
      })
      await rpc('evm_mine')
      await publishing
      const mined = await chain.provider.getBlockNumber()
      await reader.sync()
      // The head is the publish's block: not 2 deep, so neither processed nor served.
      expect(reader.processedBlock).toBe(atStart)
      expect((await reader.lookup('acme.com/fn/confirmed'))?.location).toMatch(/@\d+$/)
      expect(await reader.trustSource.publishersOf('acme.com')).toEqual([key.id])
      const served = await reader.lookup('acme.com/fn/confirmed')
      expect(served?.location?.endsWith(`@${mined}`)).toBe(false)
      await rpc('anvil_mine', '0x2')
      await reader.sync()
      expect(reader.processedBlock).toBe(mined)
      expect((await reader.lookup('acme.com/fn/confirmed'))?.location?.endsWith(`@${mined}`)).toBe(true)
    } finally {
      await rpc('evm_setAutomine', true)
    }
  })
})

describe('chainRegistry watch: reorgs', () => {
  it('a reorg (evm_snapshot / evm_revert, then new blocks) undoes a publish: the other mesh resolves the seq before it, its seq ledger drops the reverted floor, and the re-publish resolves', async () => {
    const owner = await acmeOwner()
    await owner.publish(await signed(key, 'acme.com/fn/reorged', 1))
    const ledger = memorySeqLedger()
    const mesh = await meshOf({ registries: [onChain()], seqLedger: ledger })
    const reader = mesh.registry<ChainRegistry>('chain')
    expect((await mesh.resolve('acme.com/fn/reorged')).record.seq).toBe(1)

    const snapshot = await rpc('evm_snapshot')
    const second = await signed(key, 'acme.com/fn/reorged', 2)
    await owner.publish(second)
    expect((await mesh.resolve('acme.com/fn/reorged', { cache: 'refresh' })).record.seq).toBe(2)
    expect(ledger.highest('acme.com/fn/reorged')).toBe(2)
    const removedAt = reader.processedBlock!

    await rpc('evm_revert', snapshot)
    // The removed block's number comes back with another hash.
    await rpc('anvil_mine', '0x3')
    const reorged = new Promise<{ names: readonly string[]; reason?: string }>((resolve) => {
      const off = mesh.events.on('change', (change) => {
        if (change.reason !== 'chain reorg') return
        off()
        resolve(change)
      })
    })
    await reader.sync()
    expect((await reorged).names).toContain('acme.com/fn/reorged')
    expect(reader.processedBlock).toBeGreaterThanOrEqual(removedAt)
    // The reverted anchor's seq is no floor any more: seq 1 is no rollback.
    expect(ledger.highest('acme.com/fn/reorged')).toBe(1)
    expect(await reader.anchoredSeq('acme.com/fn/reorged')).toBe(1)
    const after = await mesh.resolve('acme.com/fn/reorged')
    expect(after.record.seq).toBe(1)

    // The very record the reorg removed can be anchored again, and resolves again.
    await owner.publish(second)
    await reader.sync()
    await until(() => mesh.cache.size === 0, { what: 'the re-anchored name to leave the cache' })
    const again = await mesh.resolve('acme.com/fn/reorged')
    expect(again.record.seq).toBe(2)
    expect(again.recordId).toBe(second.id)
  })

  it('a reorg read after a restart is undone from the cursor: a block processed before the stop and removed while down', async () => {
    const owner = await acmeOwner()
    const cursor = join(dir, 'cursor.json')
    const snapshot = await rpc('evm_snapshot')
    await owner.publish(await signed(key, 'acme.com/fn/gone', 1))
    const first = registryOf({ cursor })
    await first.start()
    expect(first.processedBlock).toBe(await chain.provider.getBlockNumber())
    await first.stop()
    await rpc('evm_revert', snapshot)
    await rpc('anvil_mine', '0x2')

    const ledger = memorySeqLedger()
    const second = registryOf({ cursor }, ledger)
    const seen = changesUntil(second, 'acme.com/fn/gone')
    await second.start()
    expect(await seen).toEqual([]) // the first change it yields is the reorg's, naming the removed anchor
    expect(ledger.highest('acme.com/fn/gone')).toBeUndefined()
    expect(await second.lookup('acme.com/fn/gone')).toBeUndefined()
    const listed: string[] = []
    for await (const name of second.list('acme.com/**')) listed.push(name)
    expect(listed).toEqual([])
  })
})
