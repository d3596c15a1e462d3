import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createMesh, generateSigner, memoryRegistry } from 'function-mesh'
import { mcpTransport, meshMcpServer, recordDraftsFromMcp } from 'function-mesh/mcp'

// A stdio MCP server with a `sharpen` tool. Its command is local config: a record only names it.
const server = fileURLToPath(new URL('../_helpers/mcpStdioServer.mjs', import.meta.url))
const images = { command: process.execPath, args: [server] }

const signer = await generateSigner()
const mesh = await createMesh({
  dataDir: await mkdtemp(join(tmpdir(), 'fmesh-')),
  registries: [memoryRegistry()],
  trust: { owners: { 'acme.com': [signer.id] } },
  transports: [mcpTransport({ servers: { images } })],
})

// 1. An MCP tool as a governed provider: a draft from tools/list, reviewed, then signed and published.
const [sharpen] = await recordDraftsFromMcp(
  { stdio: images, server: 'images' },
  { namespace: 'acme.com', path: 'mcp', tools: ['sharpen'], cost: { unit: 'USDC', baseUnits: '40' } },
)
console.log(sharpen?.draft.versions['1.0.0']?.providers[0]?.endpoint) // -> mcp+stdio:images/sharpen
await mesh.publish(sharpen!.draft, { signer })
const result = await mesh.call('acme.com/mcp/sharpen@^1', { image: 'cat' }, { principal: 'alice' })
console.log(result.output, result.charge.amount) // -> { image: 'cat!' } 40n

// 2. The mesh as an MCP server for agents, under one principal and security context.
const served = meshMcpServer(mesh, {
  principal: 'agent-1',
  context: { level: 'controlled', allowedFunctionPatterns: ['acme.com/mcp/**'], allowedProviders: ['mcp-*'] },
})
const http = await served.serveHttp({ port: 0 }) // http://127.0.0.1:PORT/mcp
const agent = new Client({ name: 'agent', version: '1.0.0' })
await agent.connect(new StreamableHTTPClientTransport(new URL(http.url)))
const { tools } = await agent.listTools()
console.log(tools.map((t) => t.name)) // -> [ 'resolve', 'select', 'call', 'acme.com__mcp__sharpen' ]
const answer = await agent.callTool({ name: 'acme.com__mcp__sharpen', arguments: { image: 'dog' } })
console.log(answer.structuredContent) // -> { image: 'dog!' }
const usage = await mesh.billing.usage({ by: 'principal' })
console.log(usage.map((u) => `${u.key} ${u.amount}`)) // -> [ 'agent-1 40', 'alice 40' ]

await agent.close()
await served.close()
await mesh.close()
