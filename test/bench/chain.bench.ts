import { Contract, type ContractTransactionResponse, hexlify, sha256 } from 'ethers'
import { ImmediateJsonRpcProvider } from '../../registries/chain/_immediateProvider.js'
import { chainRegistry } from '../../registries/chain/chainRegistry.js'
import { REGISTRY_ABI } from '../../registries/chain/registryArtifact.js'
import type { ChainRegistry } from '../../registries/chain/types.js'
import { versionSetDigest } from '../../registries/chain/versionSetDigest.js'
import { createMesh } from '../../src/mesh.js'
import { registryComponents } from '../../src/registry/registryComponents.js'
import { generateSigner } from '../../src/trust/signer.js'
import { freshChainRegistry, startChain } from '../_helpers/chain.js'
import { formatGasTable, measureRegistryGas } from '../_helpers/chainGas.js'
import { signed } from '../_helpers/records.js'
import { measure, ratio, report, time } from './_harness.js'

// Gas per FunctionMeshRegistry operation on a local anvil, beside a plain ETH transfer (gas is
// deterministic for a given artifact and hardfork, so one run is the figure); then chainRegistry's
// lookup, a cold resolve through a fresh mesh, and publish, each beside the raw ethers call or
// transaction it wraps, in the same run.
export default async function chainBench(): Promise<void> {
  const chain = await startChain()
  try {
    console.log(formatGasTable(await measureRegistryGas(chain)))
    const key = await generateSigner()
    const components = registryComponents({ trust: { owners: {} } })
    const { registry, address, blockNumber } = await freshChainRegistry(chain, components)
    await registry.claim('acme.com')
    await registry.addPublisher('acme.com', key.id)
    await registry.publish(await signed(key, 'acme.com/image/sharpen', 1))
    const raw = new Contract(address, REGISTRY_ABI, chain.wallets[0]!)
    const rawLookup = raw.getFunction('lookup')

    const opts = { batch: 20, minMs: 1000, warmupMs: 200 }
    const rawCall = await measure(
      'raw ethers lookup(name) eth_call',
      () => rawLookup.staticCall('acme.com/image/sharpen'),
      opts,
    )
    const lookup = await measure(
      'chainRegistry.lookup (bytes, digest checked)',
      () => registry.lookup('acme.com/image/sharpen'),
      opts,
    )
    report(rawCall)
    report(lookup)
    ratio('chainRegistry.lookup / raw call', lookup, rawCall)

    // Cold resolve: a fresh mesh per resolve (connection check excluded: the registry is started first).
    let n = 0
    const coldMs: number[] = []
    const rawMs: number[] = []
    // The same eth_call on the provider the registry uses (each request posted at once, no ethers
    // queue timer): the round trip itself, so the mesh's own share of a cold resolve shows too.
    const direct = new ImmediateJsonRpcProvider(chain.node.rpcUrl, chain.node.chainId, {
      staticNetwork: true,
    })
    const directLookup = new Contract(address, REGISTRY_ABI, direct).getFunction('lookup')
    const directMs: number[] = []
    for (; n < 20; n++) {
      const reader = chainRegistry({
        rpcUrl: chain.node.rpcUrl,
        address,
        fromBlock: blockNumber,
        id: `r${n}`,
      })
      const mesh = await createMesh({ registries: [reader] })
      coldMs.push(await time(() => mesh.resolve('acme.com/image/sharpen@^1.2')))
      rawMs.push(await time(() => rawLookup.staticCall('acme.com/image/sharpen')))
      directMs.push(await time(() => directLookup.staticCall('acme.com/image/sharpen')))
      await mesh.close()
    }
    direct.destroy()
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    console.log(
      `  cold resolve through a fresh mesh: median ${median(coldMs).toFixed(2)} ms; raw lookup eth_call ${median(rawMs).toFixed(2)} ms; ratio ${(median(coldMs) / median(rawMs)).toFixed(2)}x`,
    )
    console.log(
      `  the same eth_call posted at once (the registry's provider, no ethers queue timer): median ${median(directMs).toFixed(2)} ms; cold resolve / it ${(median(coldMs) / median(directMs)).toFixed(2)}x`,
    )

    // Publish latency: chainRegistry.publish (verify, one eth_call, the transaction, its receipt,
    // the event read) beside a raw publish transaction and its receipt.
    const pubMs: number[] = []
    const rawTxMs: number[] = []
    for (let seq = 2; seq < 22; seq++) {
      const record = await signed(key, 'acme.com/image/sharpen', seq)
      pubMs.push(await time(() => registry.publish(record)))
      const other = await signed(key, 'acme.com/image/raw', seq)
      const bytes = other.bytes
      rawTxMs.push(
        await time(async () => {
          const tx = (await raw.getFunction('publish')(
            'acme.com/image/raw',
            seq,
            sha256(bytes),
            versionSetDigest(other.record),
            2,
            hexlify(bytes),
          )) as ContractTransactionResponse
          await tx.wait()
        }),
      )
    }
    console.log(
      `  publish: median ${median(pubMs).toFixed(2)} ms; raw publish transaction + receipt ${median(rawTxMs).toFixed(2)} ms; ratio ${(median(pubMs) / median(rawTxMs)).toFixed(2)}x`,
    )
    await (registry as ChainRegistry).stop()
    await components.close()
  } finally {
    await chain.stop()
  }
}
