import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { runRegistryConformance } from './registryConformance.js'

runRegistryConformance({
  name: 'memoryRegistry',
  setup: async () => memoryRegistry(),
  teardown: async () => {},
})
