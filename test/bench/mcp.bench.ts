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
import { measure, ratio, record, report, target } from './_harness.js'
import { cpuText, GAP_US, interleaved, type Side, sleep, spin } from './_mcpRounds.js'

// A governed call to an MCP tool over stdio (resolve + select from the cache, input and output
// schemas, deadline, FUNCTION_INVOKED and FUNCTION_COMPLETED + charge durable in the ledger, the
// MCP transport's pool) beside the SDK client calling the same tool of the same server program
// directly, one call at a time and 32 in flight, all in one run. Each side has its own server process.
// A third figure, a governed call of an in-process function over the same ledger, shows what the
// mesh's governance costs on this machine at this moment, apart from MCP. The one-at-a-time sides are
// warmed by a fixed number of calls and measured in interleaved rounds (see _mcpRounds.ts), with the
// CPU time of this process and of the servers beside the wall time.
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
    const never = new AbortController().signal
    const bareCall = () =>
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
      })
    const directCall = () => client.callTool({ name: 'sharpen', arguments: input })
    const sides: Side[] = [
      { name: 'SDK client.callTool, one at a time', op: directCall },
      {
        name: 'mesh.call over mcp+stdio, durable, one at a time',
        op: () => mesh.call('acme.com/mcp/sharpen@^1', input),
      },
      // The transport alone, without governance, on the mesh's server process: what MCP itself adds.
      { name: 'mcpTransport.call alone (no governance), one at a time', op: bareCall },
      {
        name: 'mesh.call over an in-process transport, durable, one at a time',
        op: () => mesh.call('acme.com/echo/sharpen@^1', input),
      },
      {
        name: 'mesh.call of a local function, durable, one at a time',
        op: () => mesh.call('acme.com/text/upper', { text: 'hi' }),
      },
      // Cancellable as a governed call must be (its deadline becomes MCP cancellation): a fresh
      // AbortSignal per call, which the SDK listens on.
      {
        name: 'SDK client.callTool with an AbortSignal, one at a time',
        op: () =>
          client.callTool({ name: 'sharpen', arguments: input }, undefined, {
            signal: new AbortController().signal,
          }),
      },
      // The same direct call with the caller busy for a while between calls, spinning or asleep:
      // whether the processes idling between requests (not the work) is what costs.
      {
        name: `SDK client.callTool after a ${GAP_US} us busy spin`,
        op: () => {
          spin(GAP_US)
          return directCall()
        },
      },
      {
        name: `SDK client.callTool after a ${GAP_US} us sleep`,
        op: () => {
          sleep(GAP_US)
          return directCall()
        },
      },
    ]
    const [direct, governed, bare, echoed, local, signalled, spun, slept] = await interleaved(sides)
    for (const m of [direct, governed, bare, echoed, local, signalled, spun, slept]) report(m!)
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
    ratio('governed vs direct (one at a time)', governed!, direct!)
    ratio('transport alone vs direct (one at a time)', bare!, direct!)
    ratio(`governed vs direct (${inFlight} in flight)`, perCall(governedC), perCall(directC))
    const overhead = governed!.medianUs - direct!.medianUs
    console.log(`  median overhead per governed MCP call (one at a time): ${overhead.toFixed(1)} us`)
    console.log(
      `  the MCP transport alone over the SDK client: ${(bare!.medianUs - direct!.medianUs).toFixed(1)} us`,
    )
    console.log(`  a durable governed call of a local function, same run: ${local!.medianUs.toFixed(1)} us`)
    console.log(
      `  governance of a provider outside the process (no wire), same run: ${echoed!.medianUs.toFixed(1)} us`,
    )
    console.log(
      `  CPU per call, this process + the server: direct ${cpuText(direct!)}, governed ${cpuText(governed!)}, transport alone ${cpuText(bare!)}`,
    )
    console.log(
      `  CPU per call, in-process: over a transport ${cpuText(echoed!)}, local function ${cpuText(local!)}`,
    )
    console.log(`  CPU per direct call with an AbortSignal: ${cpuText(signalled!)}`)
    console.log(
      `  CPU per direct call after a ${GAP_US} us gap: spinning ${cpuText(spun!, GAP_US)}, asleep ${cpuText(slept!)} (spin time taken out)`,
    )
    if (governed!.cpuUs !== undefined && direct!.cpuUs !== undefined)
      record({
        name: 'CPU overhead per governed MCP call (this process + the server)',
        value: governed!.cpuUs - direct!.cpuUs,
        unit: 'us',
      })
    target('median overhead per governed MCP call', overhead, 100, 'us', false)
    const check = await mesh.lineage.verify()
    if (!check.ok) throw new Error('the ledger does not verify after the bench')
  } finally {
    await client.close()
    await mesh.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
