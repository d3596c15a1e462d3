// `function-mesh/registries/chain` (in progress): the registry contract's artifact, a local EVM
// launcher and a deploy helper. The `chainRegistry` backend builds on these.
export * from './deployRegistry.js'
export * from './errors.js'
export * from './registryArtifact.js'
export * from './startAnvil.js'
