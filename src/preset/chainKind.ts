import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type ChainRegistryConfig, ChainRegistryConfigSchema } from '../../registries/chain/config.js'
import type { ChainRegistry, ChainRegistryInit } from '../../registries/chain/types.js'
import type { RegistryComponents, RegistryFactory } from '../components.js'
import { ConfigError } from '../errors/registry.js'
import type { ContentStore } from '../registry/types.js'
import type { PresetContext } from './types.js'

/** `{ "type": "chain", ... }`: a chain registry over `rpcUrl`, or over a local anvil the preset starts. */
export const schema = ChainRegistryConfigSchema

/** The local chain's directory: `DATA_DIR/chain` (`chain-N` after the first). */
function localDir(context: PresetContext): string {
  return join(context.dataDir, context.index === 0 ? 'chain' : `chain-${context.index}`)
}

export function describe(config: ChainRegistryConfig, context: PresetContext): string {
  const pointers = config.ipfs === undefined ? '' : `, CID pointers through ${config.ipfs}`
  return config.rpcUrl === undefined
    ? `chain registry on a local anvil, state in ${localDir(context)}${pointers}`
    : `chain registry at ${config.address} over ${config.rpcUrl}${pointers}`
}

/** The 0x private key in `file` (relative to the config file). */
function readSignerKey(file: string, context: PresetContext): string {
  const path = `registries[${context.index}].signerKeyFile`
  let text: string
  try {
    text = readFileSync(resolve(context.baseDir, file), 'utf8').trim()
  } catch (err) {
    throw new ConfigError(path, `cannot be read: ${(err as Error).message}`)
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new ConfigError(path, 'must hold a 0x-prefixed 32-byte private key (hex) and nothing else')
  return text
}

export async function create(config: ChainRegistryConfig, context: PresetContext): Promise<RegistryFactory> {
  // ethers loads here, when a chain registry is built, never when a config is only checked.
  const { chainRegistry, startLocalChain } = await import('../../registries/chain/index.js')
  const at = `registries[${context.index}]`
  const ipfs = config.ipfs
  if (ipfs !== undefined && context.registryTypes?.get(ipfs) !== 'ipfs')
    throw new ConfigError(
      `${at}.ipfs`,
      `must name an IPFS registry of this config (no ipfs registry \`${ipfs}\`)`,
    )
  const signer = config.signerKeyFile === undefined ? undefined : readSignerKey(config.signerKeyFile, context)
  const contentStore =
    ipfs === undefined
      ? undefined
      : (components: RegistryComponents) =>
          // The IPFS registry's factory gives the instance the mesh made with these components.
          context.registryFactory!(ipfs)!(components) as unknown as { contentStore: ContentStore }
  const { type: _type, rpcUrl, address, signerKeyFile: _key, ipfs: _ipfs, ...options } = config
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  const init: Omit<ChainRegistryInit, 'address'> = {
    ...(given as Omit<ChainRegistryInit, 'address'>),
    id: context.id,
    ...(contentStore === undefined ? {} : { contentStore }),
  }
  if (rpcUrl !== undefined)
    return chainRegistry({ ...init, rpcUrl, address: address!, ...(signer === undefined ? {} : { signer }) })
  // The local chain starts when the mesh makes its registries, and stops when it closes.
  return async (components) => {
    const local = await startLocalChain({ dir: localDir(context), signal: components.signal })
    let registry: ChainRegistry
    try {
      registry = chainRegistry({
        ...init,
        rpcUrl: local.rpcUrl,
        address: local.deployment.address,
        fromBlock: config.fromBlock ?? local.deployment.blockNumber,
        signer: signer ?? local.accounts[0]!.privateKey,
      })(components)
    } catch (err) {
      await local.stop()
      throw err
    }
    return stopsWith(registry, () => local.stop())
  }
}

/** `registry`, whose `stop` also runs `after` (once the registry itself has stopped). */
function stopsWith(registry: ChainRegistry, after: () => Promise<void>): ChainRegistry {
  return new Proxy(registry, {
    get(target, property) {
      if (property === 'stop')
        return async () => {
          try {
            await target.stop()
          } finally {
            await after()
          }
        }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
