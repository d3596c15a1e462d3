import { afterAll, beforeAll } from 'vitest'
import { CONFORMANCE_NAMESPACES, runRegistryConformance } from '../../src/testing/registryConformance.js'
import { type Chain, freshChainRegistry, startChain } from '../_helpers/chain.js'

// One anvil for the file, a fresh contract per test. The setup claims the suite's namespaces and
// registers the keys the suite's trust pins for them, so the chain's trust source (which a mesh asks
// before pinned owners) agrees with the suite's.
let chain: Chain
beforeAll(async () => {
  chain = await startChain()
})
afterAll(() => chain?.stop())

runRegistryConformance({
  name: 'chainRegistry (anvil)',
  watch: true,
  setup: async (components) => {
    const { registry } = await freshChainRegistry(chain, components)
    for (const namespace of CONFORMANCE_NAMESPACES) {
      await registry.claim(namespace)
      for (const keyId of (await components.trust.publishersOf(namespace)) ?? [])
        await registry.addPublisher(namespace, keyId)
    }
    return registry
  },
})
