import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { McpServers } from '../../mcp/config.js'
import { mcpTransport } from '../../mcp/mcpTransport.js'
import type { Clock } from '../../src/clock.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import type { Descriptor } from '../../src/record/schema.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'

/** The stdio test server: `node test/_helpers/mcpStdioServer.mjs`. */
export const STDIO_SERVER = fileURLToPath(new URL('../_helpers/mcpStdioServer.mjs', import.meta.url))

export const stdioServer = (env: Record<string, string> = {}, extra: string[] = []) => ({
  command: process.execPath,
  args: [STDIO_SERVER, ...extra],
  env,
})

export const imageDescriptor = (overrides: Partial<Descriptor> = {}): Descriptor => ({
  inputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
  outputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
  maxRisk: 'read-only',
  idempotency: 'idempotent',
  allowedByDefault: false,
  ...overrides,
})

/** A mesh over a memory registry with an MCP transport, and a publisher key for acme.com. */
export async function mcpMesh(options: { servers?: McpServers; clock?: Clock }) {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-mcp-'))
  const signer: LocalSigner = await generateSigner()
  const transport = mcpTransport({ servers: options.servers ?? {} })
  const mesh: Mesh = await createMesh({
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [signer.id] } },
    transports: [transport],
    ledger: { path: join(dir, 'ledger.sqlite') },
    dataDir: dir,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  /** Publishes `acme.com/mcp/<fn>` with one provider at `endpoint`. */
  const publishTool = async (
    fn: string,
    endpoint: string,
    descriptor: Descriptor = imageDescriptor(),
    cost = '25',
  ) => {
    await mesh.publish(
      {
        name: `acme.com/mcp/${fn}`,
        latestVersion: '1.0.0',
        versions: {
          '1.0.0': {
            deprecated: false,
            yanked: false,
            descriptor,
            providers: [{ id: `mcp-${fn}`, endpoint, cost: { unit: 'USDC', baseUnits: cost } }],
          },
        },
      },
      { signer },
    )
    return `acme.com/mcp/${fn}@^1`
  }
  return {
    mesh,
    signer,
    transport,
    dir,
    publishTool,
    close: async () => {
      await mesh.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error('expected the call to fail')
  return err as Error & {
    code: string
    details: Record<string, unknown>
    cause?: Error & { code: string; sent: boolean; retryable: boolean; message: string }
  }
}
