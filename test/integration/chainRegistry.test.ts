import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Contract, ContractFactory, JsonRpcProvider, toUtf8Bytes, Wallet } from 'ethers'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { chainRegistry } from '../../registries/chain/chainRegistry.js'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import { REGISTRY_ABI } from '../../registries/chain/registryArtifact.js'
import { startAnvil } from '../../registries/chain/startAnvil.js'
import type { ChainRegistry, ChainRegistryInit } from '../../registries/chain/types.js'
import { isMeshError } from '../../src/errors/base.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { type Chain, chainRegistryOn, startChain } from '../_helpers/chain.js'
import { sampleDraft, signed } from '../_helpers/records.js'
import { until } from '../_helpers/until.js'

// chainRegistry over JSON-RPC to a real anvil with the committed contract: publishing, resolving
// with the chain as the only trust, and the chain's keys overriding what other registries hold.

let chain: Chain
let address: string
let fromBlock: number
let key: LocalSigner
const meshes: Mesh[] = []

beforeAll(async () => {
  chain = await startChain()
})
afterAll(() => chain?.stop())
beforeEach(async () => {
  ;({ address, blockNumber: fromBlock } = await deployRegistry(chain.wallets[9]!))
  key = await generateSigner()
})
afterEach(async () => {
  for (const mesh of meshes.splice(0)) await mesh.close()
})

/** A chain registry on this test's contract; `account` signs transactions when given. */
const onChain = (init: Partial<ChainRegistryInit> & { account?: number } = {}) =>
  chainRegistryOn(chain, { address, fromBlock }, init)
const meshOf = async (init: Parameters<typeof createMesh>[0]) => {
  const mesh = await createMesh(init)
  meshes.push(mesh)
  return mesh
}
/** The code of a refused resolve's cause (the mesh wraps each refusal in E_NO_VALID_RECORD). */
const refusal = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isMeshError(err, 'E_NO_VALID_RECORD'), String(err)).toBe(true)
  return (err as { cause?: { code?: string } }).cause?.code
}
const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (isMeshError(err) ? err.code : String(err)),
  )

describe('chainRegistry: publish and resolve through the chain', () => {
  it('claims, adds a key, publishes; a fresh mesh whose only trust is the chain resolves it, verified by the chain', async () => {
    const publisher = await meshOf({ registries: [onChain({ account: 0 })] })
    const owner = publisher.registry<ChainRegistry>('chain')
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const published = await publisher.publish(sampleDraft('acme.com/image/sharpen'), { signer: key })
    expect(published.receipts[0]).toMatchObject({ registry: 'chain' })
    expect(published.receipts[0]!.location).toMatch(new RegExp(`^chain:31337/${address}@\\d+$`))
    expect(await owner.anchoredSeq('acme.com/image/sharpen')).toBe(published.seq)

    const reader = await meshOf({ registries: [onChain()] })
    const result = await reader.resolve('acme.com/image/sharpen@^1.2')
    const source = reader.registry<ChainRegistry>('chain').trustSource.id
    expect(source).toBe(`chain:31337/${address}`)
    expect(result.version).toBe('1.4.1')
    expect(result.recordId).toBe(published.id)
    expect(result.verified).toMatchObject({ keyId: key.id, trustSource: source, seq: published.seq })
    expect(await codeOf(reader.resolve('acme.com/image/missing'))).not.toBe('resolved')
  })

  it('the trust source answers undefined for an unclaimed namespace (pinned owners then apply) and [] for a claimed one without keys', async () => {
    const registry = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    expect(await registry.trustSource.publishersOf('beta.org')).toBeUndefined()
    await registry.claim('beta.org')
    expect(await registry.trustSource.publishersOf('beta.org')).toEqual([])
    await registry.addPublisher('beta.org', key.id)
    expect(await registry.trustSource.publishersOf('beta.org')).toEqual([key.id])
    expect(await registry.namespace('beta.org')).toEqual({
      owner: chain.wallets[0]!.address,
      publishers: [key.id],
    })
    await registry.stop()

    const pinned = await generateSigner()
    const memory = memoryRegistry()
    await memory.publish(await signed(pinned, 'gamma.net/fn/a', 1))
    const mesh = await meshOf({
      registries: [onChain(), memory],
      trust: { owners: { 'gamma.net': [pinned.id] } },
    })
    expect((await mesh.resolve('gamma.net/fn/a')).verified).toMatchObject({ trustSource: 'pinned' })
  })
})

describe('chainRegistry: the chain as trust for records found elsewhere', () => {
  it('error: refuses a memory-registry record signed by a key the chain does not list, whatever pinned owners say (E_SIGNER_NOT_OWNER)', async () => {
    const owner = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    await owner.stop()
    const stranger = await generateSigner()
    const memory = memoryRegistry()
    await memory.publish(await signed(stranger, 'acme.com/image/forged', 1))
    await memory.publish(await signed(key, 'acme.com/image/genuine', 1))
    const mesh = await meshOf({
      registries: [onChain(), memory],
      trust: { owners: { 'acme.com': [stranger.id] } },
    })
    expect(await refusal(mesh.resolve('acme.com/image/forged'))).toBe('E_SIGNER_NOT_OWNER')
    expect((await mesh.resolve('acme.com/image/genuine')).verified).toMatchObject({
      keyId: key.id,
      trustSource: `chain:31337/${address}`,
    })
  })

  it('error: after a key is removed on chain, a reader with trustMaxAgeMs 0 refuses its records at once (the PublisherRemoved event drops its trust cache)', async () => {
    const owner = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const memory = memoryRegistry()
    await memory.publish(await signed(key, 'acme.com/image/rotated', 1))
    await memory.publish(await signed(key, 'acme.com/image/other', 1))
    const mesh = await meshOf({ registries: [onChain({ trustMaxAgeMs: 0 }), memory] })
    const reader = mesh.registry<ChainRegistry>('chain')
    expect((await mesh.resolve('acme.com/image/rotated')).verified).toMatchObject({ keyId: key.id })
    expect(await reader.trustSource.publishersOf('acme.com')).toEqual([key.id])

    await owner.removePublisher('acme.com', key.id)
    await owner.stop()
    // The reader's trust cache still holds the key; the event it reads first drops it.
    expect(await reader.trustSource.publishersOf('acme.com')).toEqual([])
    expect(await refusal(mesh.resolve('acme.com/image/other'))).toBe('E_SIGNER_NOT_OWNER')
  })

  it("error: after a key is removed on chain, another mesh's poll drops its cached resolves in the namespace, from any registry, and refuses them", async () => {
    const owner = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const memory = memoryRegistry()
    await memory.publish(await signed(key, 'acme.com/image/rotated', 1))
    const mesh = await meshOf({ registries: [onChain({ pollIntervalMs: 20 }), memory] })
    expect((await mesh.resolve('acme.com/image/rotated')).verified).toMatchObject({ keyId: key.id })
    expect(mesh.cache.size).toBe(1)

    await owner.removePublisher('acme.com', key.id)
    await owner.stop()
    // No call here drops anything: the reader's poll reads PublisherRemoved, its watch names
    // acme.com, and the mesh drops the namespace's cached resolves (the record has a 300 s TTL).
    await until(() => mesh.cache.size === 0, { what: 'the cached resolve to be dropped' })
    expect(await refusal(mesh.resolve('acme.com/image/rotated'))).toBe('E_SIGNER_NOT_OWNER')
  })

  it("another registry's poll reads the PublisherRemoved event: its watch names the namespace's anchored records and its trust cache drops the key", async () => {
    const owner = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    await owner.publish(await signed(key, 'acme.com/image/watched', 1))
    const reader = onChain({ pollIntervalMs: 20 })(registryComponents({ trust: { owners: {} } }))
    await reader.start()
    await reader.sync() // the events so far, so the watch below sees only the removal's
    expect(await reader.trustSource.publishersOf('acme.com')).toEqual([key.id])
    const controller = new AbortController()
    const changes = reader.watch({ signal: controller.signal })[Symbol.asyncIterator]()
    const trustChange = (async () => {
      for (let next = await changes.next(); !next.done; next = await changes.next())
        if (next.value.reason === 'chain trust')
          return { names: next.value.names, namespaces: next.value.namespaces }
      return undefined
    })()
    await owner.removePublisher('acme.com', key.id)
    expect(await trustChange).toEqual({ names: ['acme.com/image/watched'], namespaces: ['acme.com'] })
    controller.abort()
    // Within trustMaxAgeMs (1 s by default) of its last read: the event dropped the entry, not age.
    expect(await reader.trustSource.publishersOf('acme.com')).toEqual([])
    await reader.stop()
    await owner.stop()
  })

  it('error: a record found elsewhere with a seq below the anchored one is a rollback (E_SEQ_ROLLBACK): anchored seqs feed the seq ledger', async () => {
    const owner = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await owner.claim('acme.com')
    await owner.addPublisher('acme.com', key.id)
    const anchored = await signed(key, 'acme.com/image/floor', 3)
    await owner.publish(anchored)
    await owner.stop()
    const memory = memoryRegistry()
    await memory.publish(await signed(key, 'acme.com/image/floor', 2))
    const seqLedger = memorySeqLedger()
    const mesh = await meshOf({ registries: [memory, onChain()], seqLedger })
    await mesh.registry<ChainRegistry>('chain').sync()
    expect(seqLedger.highest('acme.com/image/floor')).toBe(3)
    const result = await mesh.resolve('acme.com/image/floor')
    expect(result.recordId).toBe(anchored.id)
    expect(result.report?.find((r) => r.registry === 'memory')).toMatchObject({
      status: 'outdated',
      error: { code: 'E_SEQ_ROLLBACK' },
    })
  })

  it('error: a transferred namespace: the old owner can no longer publish (E_CHAIN_NOT_OWNER), and its keys are gone', async () => {
    const components = registryComponents({ trust: { owners: {} } })
    const oldOwner = onChain({ account: 0 })(components)
    const newOwner = onChain({ account: 1 })(components)
    await oldOwner.claim('acme.com')
    await oldOwner.addPublisher('acme.com', key.id)
    await oldOwner.publish(await signed(key, 'acme.com/image/moved', 1))
    await oldOwner.transferOwnership('acme.com', chain.wallets[1]!.address)
    expect((await oldOwner.namespace('acme.com'))?.pendingOwner).toBe(chain.wallets[1]!.address)
    await newOwner.acceptOwnership('acme.com')
    expect(await oldOwner.namespace('acme.com')).toEqual({ owner: chain.wallets[1]!.address, publishers: [] })
    expect(await oldOwner.trustSource.publishersOf('acme.com')).toEqual([])

    const err = await oldOwner.publish(await signed(key, 'acme.com/image/moved', 2)).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_NOT_OWNER')).toBe(true)
    expect((err as Error).message).toContain(
      `Account ${chain.wallets[0]!.address} does not own namespace acme.com`,
    )
    expect(await codeOf(oldOwner.addPublisher('acme.com', key.id))).toBe('E_CHAIN_NOT_OWNER')
    await newOwner.addPublisher('acme.com', key.id)
    await newOwner.publish(await signed(key, 'acme.com/image/moved', 2))
    expect(await newOwner.anchoredSeq('acme.com/image/moved')).toBe(2)
    await oldOwner.stop()
    await newOwner.stop()
  })
})

describe('chainRegistry: bad input', () => {
  const started = async (init: Partial<ChainRegistryInit>) => {
    const registry = onChain(init)(registryComponents({ trust: { owners: {} } }))
    try {
      await registry.start()
      return 'started'
    } catch (err) {
      return err
    } finally {
      await registry.stop()
    }
  }

  it('error: E_CHAIN_ID_MISMATCH when the node serves another chain than `chainId`', async () => {
    const err = await started({ chainId: 1 })
    expect(isMeshError(err, 'E_CHAIN_ID_MISMATCH')).toBe(true)
    expect((err as Error).message).toContain('serves chain 31337, not the configured 1')
  })

  it('error: E_CHAIN_CONTRACT for an address without code, and for one with another contract', async () => {
    const empty = await started({ address: Wallet.createRandom().address })
    expect(isMeshError(empty, 'E_CHAIN_CONTRACT')).toBe(true)
    expect((empty as Error).message).toContain('No contract at')
    // A one-byte contract (runtime code 0x00).
    const other = await new ContractFactory([], '0x6001600c60003960016000f300', chain.wallets[8]!).deploy()
    await other.waitForDeployment()
    const foreign = await started({ address: await other.getAddress() })
    expect(isMeshError(foreign, 'E_CHAIN_CONTRACT')).toBe(true)
    expect((foreign as Error).message).toContain('is not FunctionMeshRegistry')
  })

  it('error: E_CHAIN_RPC naming the URL when the node is down', async () => {
    const node = await startAnvil()
    await node.stop()
    const err = await started({ rpcUrl: node.rpcUrl })
    expect(isMeshError(err, 'E_CHAIN_RPC')).toBe(true)
    expect((err as Error).message).toContain(`Chain RPC ${node.rpcUrl} failed to read the chain id`)
  })

  it('error: lookup, list and publishersOf say E_CHAIN_RPC when the node goes down after start', async () => {
    const node = await startAnvil()
    const deployer = new Wallet(
      node.accounts[9]!.privateKey,
      new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 }),
    )
    const deployed = await deployRegistry(deployer)
    deployer.provider!.destroy()
    const registry = chainRegistry({ rpcUrl: node.rpcUrl, address: deployed.address, trustMaxAgeMs: 0 })(
      registryComponents({ trust: { owners: {} } }),
    )
    await registry.start()
    expect(await registry.trustSource.publishersOf('acme.com')).toBeUndefined()
    await node.stop()
    expect(await codeOf(registry.lookup('acme.com/image/sharpen'))).toBe('E_CHAIN_RPC')
    expect(
      await codeOf(
        (async () => {
          for await (const _ of registry.list('**')) break
        })(),
      ),
    ).toBe('E_CHAIN_RPC')
    expect(await codeOf(Promise.resolve(registry.trustSource.publishersOf('acme.com')))).toBe('E_CHAIN_RPC')
    await registry.stop()
  })

  it('error: an RPC request the node never answers fails with E_CHAIN_RPC after rpcTimeoutMs, and the next sync works (no sync left queued behind it)', async () => {
    // A proxy in front of anvil that holds every eth_getLogs unanswered while `stall` is set.
    let stall = true
    const held: ServerResponse[] = []
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        if (stall && body.includes('"eth_getLogs"')) return void held.push(res)
        fetch(chain.node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then(async (r) =>
            res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
          )
          .catch(() => res.destroy())
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const registry = chainRegistry({ rpcUrl: url, address, fromBlock, rpcTimeoutMs: 300 })(
      registryComponents({ trust: { owners: {} } }),
    )
    try {
      await registry.start().catch(() => undefined) // its first sync may be the held request
      expect(await codeOf(registry.lookup('acme.com/image/sharpen'))).toBe('E_CHAIN_RPC')
      expect(held.length).toBeGreaterThan(0)
      stall = false
      expect(await registry.lookup('acme.com/image/sharpen')).toBeUndefined()
    } finally {
      for (const res of held) res.destroy()
      await registry.stop()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })

  it('error: rpcTimeoutMs must be a whole number of ms >= 1', () => {
    expect(() => onChain({ rpcTimeoutMs: 0 })(registryComponents({ trust: { owners: {} } }))).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: expect.stringContaining('chainRegistry.rpcTimeoutMs'),
      }),
    )
  })

  it('error: a reverted transaction is a MeshError with the decoded custom error', async () => {
    const registry = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await registry.claim('acme.com')
    const err = await registry.removePublisher('acme.com', key.id).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_REVERT')).toBe(true)
    expect((err as { errorName: string }).errorName).toBe('UnknownKey')
    expect((err as Error).message.split('\n')[0]).toMatch(
      /^FunctionMeshRegistry refused to remove a publisher from acme\.com: UnknownKey\(0x[0-9a-f]{64}, 0x[0-9a-f]{64}\)$/,
    )
    const claimed = await registry.claim('acme.com').catch((e: unknown) => e)
    expect((claimed as { errorName: string }).errorName).toBe('AlreadyClaimed')
    await registry.stop()
  })

  it('error: without a signer, writes say E_CHAIN_NO_SIGNER; with autoClaim off, an unclaimed namespace is E_CHAIN_NOT_OWNER', async () => {
    const readOnly = onChain()(registryComponents({ trust: { owners: {} } }))
    expect(await codeOf(readOnly.claim('acme.com'))).toBe('E_CHAIN_NO_SIGNER')
    expect(await codeOf(readOnly.publish(await signed(key, 'acme.com/image/x', 1)))).toBe('E_CHAIN_NO_SIGNER')
    await readOnly.stop()
    const manual = onChain({ account: 0, autoClaim: false })(registryComponents({ trust: { owners: {} } }))
    expect(await codeOf(manual.publish(await signed(key, 'acme.com/image/x', 1)))).toBe('E_CHAIN_NOT_OWNER')
    expect(await manual.namespace('acme.com')).toBeUndefined()
    await manual.stop()
  })

  it('error: without a content store, a record over 4 KiB of canonical bytes is E_CHAIN_INLINE_TOO_LARGE', async () => {
    const registry = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    const big = await signed(key, 'acme.com/image/big', 1, { description: 'x'.repeat(2048) })
    expect(big.bytes.byteLength).toBeGreaterThan(4096)
    expect(await codeOf(registry.publish(big))).toBe('E_CHAIN_INLINE_TOO_LARGE')
    await registry.stop()
  })

  it('error: without a content store, an anchor with a CID pointer is E_CHAIN_POINTER_UNAVAILABLE naming the CID', async () => {
    const registry = onChain({ account: 0 })(registryComponents({ trust: { owners: {} } }))
    await registry.claim('acme.com')
    const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const raw = new Contract(address, REGISTRY_ABI, chain.wallets[0]!)
    const digest = `0x${'ab'.repeat(32)}`
    await (
      await raw.getFunction('publish')('acme.com/image/cid', 1, digest, digest, 1, toUtf8Bytes(cid))
    ).wait()
    const err = await registry.lookup('acme.com/image/cid').catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_POINTER_UNAVAILABLE')).toBe(true)
    expect((err as Error).message.split('\n')[0]).toBe(
      `The anchor of acme.com/image/cid points at ${cid}, which this registry cannot fetch: no \`contentStore\` is configured`,
    )
    expect(await registry.anchoredSeq('acme.com/image/cid')).toBe(1)
    await registry.stop()
  })

  it('error: unknown options and bad values are E_CONFIG_INVALID at once', () => {
    const bad = (init: unknown) => {
      try {
        chainRegistry(init as ChainRegistryInit)
        return 'accepted'
      } catch (err) {
        return isMeshError(err) ? err.message.split('\n')[0] : String(err)
      }
    }
    expect(bad({ rpcUrl: 'http://x', address, confirmation: 1 })).toBe(
      'Invalid configuration at chainRegistry.confirmation: unknown option `confirmation`; did you mean `confirmations`?',
    )
    expect(bad({ address })).toBe(
      'Invalid configuration at chainRegistry: give exactly one of `rpcUrl` and `provider`',
    )
    expect(bad({ rpcUrl: 'http://x', address: '0x12' })).toBe(
      'Invalid configuration at chainRegistry.address: must be a 0x-prefixed 20-byte address',
    )
  })
})
