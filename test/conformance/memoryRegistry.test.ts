import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { runRegistryConformance } from '../../src/testing/registryConformance.js'

runRegistryConformance({ name: 'memoryRegistry', watch: true, setup: async () => memoryRegistry() })
