import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { mcpTransport } from '../../mcp/mcpTransport.js'
import { createMesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import type { Transport } from '../../src/transport/types.js'
import { generateSigner } from '../../src/trust/signer.js'
import { upperFunction } from '../_helpers/upper.js'
import { measure, ratio, report, target } from './_harness.js'

// A governed call to an MCP tool over stdio (resolve + select from the cache, input and output
// schemas, deadline, FUNCTION_INVOKED and FUNCTION_COMPLETED + charge durable in the ledger, the
// MCP transport's pool) beside the SDK client calling the same tool of the same server program
// directly, one call at a time and 32 in flight, all in one run. Each side has its own server process.
// A third figure, a governed call of an in-process function over the same ledger, shows what the
// mesh's governance costs on this machine at this moment, apart from MCP.
export default async function mcpBench(): Promise<void> {
  const server = fileURLToPath(new URL('../_helpers/mcpStdioServer.mjs', import.meta.url))
  const params = { command: process.execPath, args: [server] }
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-bench-mcp-'))
  const transport = mcpTransport({ servers: { tools: params } })
  // An in-process transport with the same answer: governance of a provider outside the process
  // (FUNCTION_INVOKED committed before the request, COMPLETED + charge after) without any wire.
  const echo: Transport = {
    name: 'echo',
    handles: (endpoint) => endpoint.startsWith('https://echo.bench.invalid/'),
    call: async (request) => ({ output: { image: `${(request.input as { image: string }).image}!` } }),
  }
  const signer = await generateSigner()
  const mesh = await createMesh({
    registries: [memoryRegistry()],
    trust: { owners: { 'acme.com': [signer.id] } },
    transports: [echo, transport],
    ledger: { path: join(dir, 'ledger.sqlite') },
    dataDir: dir,
  })
  const image = { type: 'object', required: ['image'], properties: { image: { type: 'string' } } }
  for (const [name, endpoint] of [
    ['acme.com/mcp/sharpen', 'mcp+stdio:tools/sharpen'],
    ['acme.com/echo/sharpen', 'https://echo.bench.invalid/sharpen'],
  ] as const)
    await mesh.publish(
      {
        name,
        versions: {
          '1.0.0': {
            deprecated: false,
            yanked: false,
            descriptor: {
              inputSchema: image,
              outputSchema: image,
              maxRisk: 'read-only',
              idempotency: 'idempotent',
              allowedByDefault: false,
            },
            providers: [{ id: 'mcp-tools', endpoint, cost: { unit: 'USDC', baseUnits: '1' } }],
          },
        },
      },
      { signer },
    )
  upperFunction().register(mesh.marketplace)
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StdioClientTransport(params))
  await client.listTools()
  const input = { image: 'cat' }
  try {
    const direct = await measure(
      'SDK client.callTool, one at a time',
      () => client.callTool({ name: 'sharpen', arguments: input }),
      { batch: 100, minMs: 2000, warmupMs: 1500 },
    )
    report(direct)
    const governed = await measure(
      'mesh.call over mcp+stdio, durable, one at a time',
      () => mesh.call('acme.com/mcp/sharpen@^1', input),
      { batch: 100, minMs: 2000, warmupMs: 1500 },
    )
    report(governed)
    // The transport alone, without governance, on the mesh's server process: what MCP itself adds.
    const never = new AbortController().signal
    const bare = await measure(
      'mcpTransport.call alone (no governance), one at a time',
      () =>
        transport.call({
          name: 'acme.com/mcp/sharpen',
          version: '1.0.0',
          provider: { id: 'mcp-tools', endpoint: 'mcp+stdio:tools/sharpen' },
          input,
          inputBytes: new Uint8Array(0),
          invocationId: 'inv_bench',
          attempt: 1,
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          principal: 'bench',
          deadline: Date.now() + 30_000,
          signal: never,
          maxResponseBytes: 1 << 20,
        }),
      { batch: 100, minMs: 2000, warmupMs: 500 },
    )
    report(bare)
    const echoed = await measure(
      'mesh.call over an in-process transport, durable, one at a time',
      () => mesh.call('acme.com/echo/sharpen@^1', input),
      { batch: 100, minMs: 2000, warmupMs: 500 },
    )
    report(echoed)
    const local = await measure(
      'mesh.call of a local function, durable, one at a time',
      () => mesh.call('acme.com/text/upper', { text: 'hi' }),
      { batch: 100, minMs: 2000, warmupMs: 500 },
    )
    report(local)
    const inFlight = 32
    const directC = await measure(
      `SDK client.callTool, ${inFlight} in flight`,
      () =>
        Promise.all(
          Array.from({ length: inFlight }, () => client.callTool({ name: 'sharpen', arguments: input })),
        ),
      { batch: 5, minMs: 2000 },
    )
    const governedC = await measure(
      `mesh.call over mcp+stdio, ${inFlight} in flight`,
      () => Promise.all(Array.from({ length: inFlight }, () => mesh.call('acme.com/mcp/sharpen@^1', input))),
      { batch: 5, minMs: 2000 },
    )
    const perCall = (m: typeof directC) => ({
      ...m,
      name: `${m.name} (per call)`,
      opsPerSec: m.opsPerSec * inFlight,
      medianUs: m.medianUs / inFlight,
    })
    report(perCall(directC))
    report(perCall(governedC))
    ratio('governed vs direct (one at a time)', governed, direct)
    ratio('transport alone vs direct (one at a time)', bare, direct)
    ratio(`governed vs direct (${inFlight} in flight)`, perCall(governedC), perCall(directC))
    const overhead = governed.medianUs - direct.medianUs
    console.log(`  median overhead per governed MCP call (one at a time): ${overhead.toFixed(1)} us`)
    console.log(
      `  the MCP transport alone over the SDK client: ${(bare.medianUs - direct.medianUs).toFixed(1)} us`,
    )
    console.log(`  a durable governed call of a local function, same run: ${local.medianUs.toFixed(1)} us`)
    console.log(
      `  governance of a provider outside the process (no wire), same run: ${echoed.medianUs.toFixed(1)} us`,
    )
    target('median overhead per governed MCP call', overhead, 100, 'us', false)
    const check = await mesh.lineage.verify()
    if (!check.ok) throw new Error('the ledger does not verify after the bench')
  } finally {
    await client.close()
    await mesh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
