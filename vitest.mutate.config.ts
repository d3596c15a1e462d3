import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

// The tests a mutant of the trust, record, ledger, security or selection modules runs against
// (`npm run mutate`, stryker.config.mjs): the in-process suites. CLI tests spawn the built binary,
// which never holds a mutant; the network integration suites exercise these modules through the
// same paths as the memory-registry conformance suite, at minutes per run instead of seconds.
// Spread, not mergeConfig: mergeConfig concatenates `include` with the base's whole-suite glob.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/ledger/**/*.test.ts',
      'test/invoke/**/*.test.ts',
      'test/conformance/memoryRegistry.test.ts',
      'test/integration/gitRegistry.publishers.test.ts',
      'test/integration/gitUnownedSeq.test.ts',
    ],
  },
})
