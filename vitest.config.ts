import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // README examples import the package by name, as users do.
    alias: [
      { find: /^function-mesh\/registries\/git$/, replacement: here('./registries/git/index.ts') },
      { find: /^function-mesh\/registries\/chain$/, replacement: here('./registries/chain/index.ts') },
      { find: /^function-mesh\/registries\/ipfs$/, replacement: here('./registries/ipfs/index.ts') },
      { find: /^function-mesh\/gateway$/, replacement: here('./gateway/index.ts') },
      { find: /^function-mesh\/mcp$/, replacement: here('./mcp/index.ts') },
      { find: /^function-mesh\/node$/, replacement: here('./node/index.ts') },
      {
        find: /^function-mesh\/(errors|record|trust|select|ledger|transport|registry|testing)$/,
        replacement: `${here('./src')}/$1/index.ts`,
      },
      { find: /^function-mesh$/, replacement: here('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
