import { startChain } from '../_helpers/chain.js'
import { formatGasTable, measureRegistryGas } from '../_helpers/chainGas.js'

// Gas per FunctionMeshRegistry operation on a local anvil, beside a plain ETH transfer. Gas is
// deterministic for a given artifact and hardfork, so one run is the figure.
export default async function chainBench(): Promise<void> {
  const chain = await startChain()
  try {
    console.log(formatGasTable(await measureRegistryGas(chain)))
  } finally {
    await chain.stop()
  }
}
