import artifact from './artifacts/FunctionMeshRegistry.json' with { type: 'json' }

/**
 * The compiled FunctionMeshRegistry (ABI, bytecode, compiler settings, source sha256), committed so
 * users need no Solidity compiler. Rebuilt by `npm run compile:contracts`; a test checks it matches
 * the source.
 */
export const REGISTRY_ARTIFACT = artifact

/** The contract's ABI, for `new Contract(address, REGISTRY_ABI, runner)` or `new Interface(...)`. */
export const REGISTRY_ABI = artifact.abi
