import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Contract, Interface, JsonRpcProvider, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundledAnvilBinary } from '../../registries/chain/_anvilBinary.js'
import { deployRegistry } from '../../registries/chain/deployRegistry.js'
import { REGISTRY_ABI, REGISTRY_ARTIFACT } from '../../registries/chain/registryArtifact.js'
import { compileRegistry } from '../../registries/chain/scripts/compile.js'
import { startAnvil } from '../../registries/chain/startAnvil.js'
import { isMeshError } from '../../src/errors/base.js'
import { type Chain, startChain } from '../_helpers/chain.js'
import { formatGasTable, measureRegistryGas } from '../_helpers/chainGas.js'
import { until } from '../_helpers/until.js'

const CHILD = fileURLToPath(new URL('../_helpers/anvilChild.ts', import.meta.url))

// The committed artifact, the local EVM launcher and the deploy helper, against a real anvil.

let chain: Chain
let dir: string

beforeAll(async () => {
  chain = await startChain()
  dir = await mkdtemp(join(tmpdir(), 'fmesh-anvil-'))
})
afterAll(async () => {
  await chain?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('FunctionMeshRegistry artifact', () => {
  it('is what the source compiles to: abi, bytecode, deployed bytecode, source sha256 and settings', async () => {
    const fresh = await compileRegistry()
    expect(REGISTRY_ARTIFACT.compiler.settings.evmVersion).toBe('cancun')
    expect(REGISTRY_ARTIFACT.compiler.version).toBe(fresh.compiler.version)
    expect(REGISTRY_ARTIFACT.compiler.settings).toEqual(fresh.compiler.settings)
    expect(REGISTRY_ARTIFACT.sourceSha256).toBe(fresh.sourceSha256)
    expect(REGISTRY_ARTIFACT.abi).toEqual(fresh.abi)
    expect(REGISTRY_ARTIFACT.bytecode).toBe(fresh.bytecode)
    expect(REGISTRY_ARTIFACT.deployedBytecode).toBe(fresh.deployedBytecode)
  })

  it('every function, event and custom error in the ABI is exercised by the contract tests', async () => {
    const sources = await Promise.all(
      ['chainContract.test.ts', 'chainContract.anchors.test.ts'].map((f) =>
        readFile(new URL(`./${f}`, import.meta.url), 'utf8'),
      ),
    )
    const tested = sources.join('\n')
    const iface = new Interface(REGISTRY_ABI)
    const names: string[] = []
    iface.forEachFunction((f) => names.push(f.name))
    iface.forEachEvent((e) => names.push(e.name))
    iface.forEachError((e) => names.push(e.name))
    // Constants read as flags or limits in the tests by value, not by name.
    const constants = [
      'DEPRECATED',
      'YANKED',
      'POINTER_CID',
      'POINTER_INLINE',
      'MAX_CID_LENGTH',
      'MAX_NAME_LENGTH',
    ]
    const limits = ['MAX_NAMESPACE_LENGTH', 'MAX_PATH_SEGMENTS', 'MAX_SEGMENT_LENGTH', 'MAX_VERSION_LENGTH']
    const untested = names.filter((n) => !tested.includes(`'${n}'`) && ![...constants, ...limits].includes(n))
    expect(untested).toEqual([])
  })
})

describe('deployRegistry', () => {
  it("deploys the artifact: the address holds its deployed bytecode and answers the contract's getters", async () => {
    const deployed = await deployRegistry(chain.wallets[0]!)
    expect(await chain.provider.getCode(deployed.address)).toBe(REGISTRY_ARTIFACT.deployedBytecode)
    const receipt = await chain.provider.getTransactionReceipt(deployed.transactionHash)
    expect(receipt?.blockNumber).toBe(deployed.blockNumber)
    const registry = new Contract(deployed.address, REGISTRY_ABI, chain.provider)
    expect(await registry.getFunction('MAX_INLINE_LENGTH')()).toBe(4096n)
  })

  it('error: E_CHAIN_DEPLOY for a signer with no provider', async () => {
    const err = await deployRegistry(Wallet.createRandom()).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_DEPLOY')).toBe(true)
    expect((err as Error).message).toMatchInlineSnapshot(`
      "Deploying FunctionMeshRegistry failed: the signer is not connected to a provider

      Check that the signer is connected to the intended chain and has funds for gas."
    `)
  })

  it('error: E_CHAIN_RPC naming the URL when the node is down', async () => {
    const node = await startAnvil()
    await node.stop()
    const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
    try {
      const err = await deployRegistry(Wallet.createRandom().connect(provider)).catch((e: unknown) => e)
      expect(isMeshError(err, 'E_CHAIN_RPC')).toBe(true)
      expect((err as Error).message).toContain(`Chain RPC ${node.rpcUrl} failed to deploy the registry`)
    } finally {
      provider.destroy()
    }
  })

  it('error: E_CHAIN_DEPLOY when the deploying account cannot pay for gas', async () => {
    const poor = Wallet.createRandom().connect(chain.provider)
    const err = await deployRegistry(poor).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_DEPLOY')).toBe(true)
  })
})

describe('startAnvil', () => {
  it('listens on 127.0.0.1 with the chain id and the funded dev accounts; stop is idempotent', async () => {
    const node = await startAnvil({ chainId: 31338 })
    expect(node.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(node.accounts).toHaveLength(10)
    expect(node.accounts[0]).toEqual({
      address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    })
    const chainId = await rpc(node.rpcUrl, 'eth_chainId')
    expect(chainId).toBe('0x7a6a')
    await node.stop()
    await node.stop()
    await expect(rpc(node.rpcUrl, 'eth_chainId')).rejects.toThrow()
  })

  it.each([
    ['its event loop runs dry', 'natural'],
    ['it calls process.exit()', 'exit'],
  ])('anvil dies with the process that started it when %s, without stop()', async (_when, how) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, how])
    const pid = Number(stdout.trim())
    expect(pid).toBeGreaterThan(0)
    await until(() => !alive(pid), { what: `anvil ${pid} to exit` })
  })

  it('finds the binary @foundry-rs/anvil ships for this platform', () => {
    expect(bundledAnvilBinary()).toHaveProperty('binary')
  })

  it('error: E_CHAIN_NODE for a binary path that does not exist', async () => {
    const err = await startAnvil({ binary: join(dir, 'no-such-anvil') }).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_NODE')).toBe(true)
    expect((err as Error).message.replaceAll(dir, '<dir>')).toMatchInlineSnapshot(`
      "Local EVM node <dir>/no-such-anvil could not be started (ENOENT)
        binary: <dir>/no-such-anvil

      Check the path and that the file is an executable anvil for this platform."
    `)
  })

  it('error: E_CHAIN_NODE with its stderr when the binary exits before listening', async () => {
    const err = await startAnvil({ args: ['--no-such-flag'] }).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_NODE')).toBe(true)
    expect((err as Error).message).toMatch(/exited before listening \(code \d+\): .*--no-such-flag/)
  })

  it('error: E_CHAIN_NODE when the binary never prints where it listens within startTimeoutMs', async () => {
    const silent = join(dir, 'silent-node')
    await writeFile(silent, '#!/bin/sh\nexec sleep 30\n')
    await chmod(silent, 0o755)
    const err = await startAnvil({ binary: silent, startTimeoutMs: 200 }).catch((e: unknown) => e)
    expect(isMeshError(err, 'E_CHAIN_NODE')).toBe(true)
    expect((err as Error).message).toContain('did not listen within 200 ms')
  })

  it('error: E_ABORTED for an aborted signal, before and during start', async () => {
    const before = await startAnvil({ signal: AbortSignal.abort() }).catch((e: unknown) => e)
    expect(isMeshError(before, 'E_ABORTED')).toBe(true)
    const silent = join(dir, 'silent-node-2')
    await writeFile(silent, '#!/bin/sh\nexec sleep 30\n')
    await chmod(silent, 0o755)
    const controller = new AbortController()
    const starting = startAnvil({ binary: silent, signal: controller.signal }).catch((e: unknown) => e)
    controller.abort()
    expect(isMeshError(await starting, 'E_ABORTED')).toBe(true)
  })
})

describe('FunctionMeshRegistry gas', () => {
  it('reports gas per operation, each within its bound', async () => {
    const rows = await measureRegistryGas(chain)
    console.log(`FunctionMeshRegistry gas per operation:\n${formatGasTable(rows)}`)
    const gas = Object.fromEntries(rows.map((r) => [r.operation, r.gas]))
    expect(gas['baseline: ETH transfer']).toBe(21000n)
    expect(gas.claim).toBeLessThan(100_000n)
    expect(gas['transfer + accept']).toBeLessThan(150_000n)
    expect(gas['publish, CID pointer (first)']).toBeLessThan(300_000n)
    expect(gas['publish, 1 KiB inline (first)']).toBeLessThan(1_200_000n)
    expect(gas['markVersion (yank)']).toBeLessThan(200_000n)
  })
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function rpc(url: string, method: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
  })
  return ((await res.json()) as { result: unknown }).result
}
