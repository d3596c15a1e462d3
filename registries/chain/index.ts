// `function-mesh/registries/chain`: the registry contract's artifact, a local EVM launcher, a deploy
// helper, and `chainRegistry`: the Registry over the contract and the chain as a trust source.
export { MAX_INLINE_RECORD_BYTES } from './_publishAnchor.js'
export { chainRegistry } from './chainRegistry.js'
export { type ChainRegistryConfig, ChainRegistryConfigSchema } from './config.js'
export * from './defaults.js'
export * from './deployRegistry.js'
export * from './errors.js'
export * from './localChain.js'
export * from './registryArtifact.js'
export * from './startAnvil.js'
export type * from './types.js'
export { versionSetDigest } from './versionSetDigest.js'
