import '../_polyfill.js'

// `function-mesh/testing`: the conformance suites every implementation of a contract runs (vitest).
export {
  CONFORMANCE_NAMESPACES,
  conformanceRecord,
  type RegistryConformanceInit,
  runRegistryConformance,
} from './registryConformance.js'
