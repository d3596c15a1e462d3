import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StreamableHttpHandle } from '../../mcp/_serveHttp.js'
import { type MeshMcpServer, meshMcpServer } from '../../mcp/meshMcpServer.js'
import { governedFunction } from '../../src/invoke/governedFunction.js'
import { until } from '../_helpers/until.js'
import { upperFunction } from '../_helpers/upper.js'
import { imageDescriptor, mcpMesh, stdioServer } from './_mesh.js'

let t: Awaited<ReturnType<typeof mcpMesh>>
let served: MeshMcpServer
let http: StreamableHttpHandle
let client: Client
const changes: number[] = []

const logDir = mkdtempSync(join(tmpdir(), 'fmesh-mcp-log-'))
const log = join(logDir, 'server.log')
const logLines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean)

beforeAll(async () => {
  writeFileSync(log, '')
  t = await mcpMesh({ servers: { tools: stdioServer({ MCP_TEST_LOG: log }) } })
  upperFunction('7').register(t.mesh.marketplace)
  governedFunction(
    { name: 'acme.com/secret/wipe', version: '1.0.0', maxRisk: 'read-only', idempotency: 'idempotent' },
    () => ({ wiped: true }),
  ).register(t.mesh.marketplace)
  await t.publishTool('sharpen', 'mcp+stdio:tools/sharpen')
  served = meshMcpServer(t.mesh, {
    principal: 'agent-7',
    context: {
      level: 'controlled',
      allowedFunctionPatterns: ['acme.com/text/**', 'acme.com/mcp/**'],
      allowedProviders: ['mcp-*'],
    },
  })
  http = await served.serveHttp()
  client = new Client({ name: 'test-agent', version: '1.0.0' })
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes.push(Date.now())
  })
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url)))
})
afterAll(async () => {
  await client.close()
  await served.close()
  await t.close()
  rmSync(logDir, { recursive: true, force: true })
})

const text = (r: unknown) => ((r as { content: { text: string }[] }).content[0]?.text ?? '') as string

describe('the mesh as an MCP server (streamable HTTP on 127.0.0.1, a real SDK client)', () => {
  it('lists resolve, select, call and one tool per function the context allows, with its schemas', async () => {
    const { tools } = await client.listTools()
    const names = tools.map((tool) => tool.name)
    expect(names).toEqual(['resolve', 'select', 'call', 'acme.com__mcp__sharpen', 'acme.com__text__upper'])
    const upper = tools.find((tool) => tool.name === 'acme.com__text__upper')!
    expect(upper.inputSchema).toMatchObject({ type: 'object', required: ['text'] })
    expect(upper.outputSchema).toMatchObject({ type: 'object', required: ['text'] })
    expect(upper.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true })
    const sharpen = tools.find((tool) => tool.name === 'acme.com__mcp__sharpen')!
    expect(sharpen.outputSchema).toMatchObject({ type: 'object', required: ['image'] })
    expect(names).not.toContain('acme.com__secret__wipe')
  })

  it('calls a mesh function by its tool under the principal: governed, in the lineage and billed', async () => {
    const r = await client.callTool({ name: 'acme.com__text__upper', arguments: { text: 'hi' } })
    expect(r.isError).toBeFalsy()
    expect(JSON.parse(text(r))).toEqual({ text: 'HI' })
    const meta = (r._meta as Record<string, { invocationId: string; charge: unknown }>)[
      'function-mesh/result'
    ]!
    expect(meta.charge).toEqual({ amount: '7', currency: 'USDC', quantity: '1' })
    const entries = await t.mesh.lineage.entries(meta.invocationId)
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[0]!.entry).toMatchObject({ principal: 'agent-7' })
    // Through the MCP transport to a tool server: agent -> mesh -> MCP tool, structured both ways.
    const s = await client.callTool({ name: 'acme.com__mcp__sharpen', arguments: { image: 'cat' } })
    expect(s.structuredContent).toEqual({ image: 'cat!' })
    // The generic call tool.
    const c = await client.callTool({
      name: 'call',
      arguments: { name: 'acme.com/text/upper@^1', input: { text: 'yo' } },
    })
    expect(c.structuredContent).toMatchObject({
      output: { text: 'YO' },
      version: '1.0.0',
      charge: { amount: '7' },
    })
    const usage = await t.mesh.billing.usage({ by: 'principal' })
    expect(usage).toContainEqual({ key: 'agent-7', currency: 'USDC', amount: 39n, calls: 3 })
  })

  it('resolve and select answer under the context', async () => {
    const r = await client.callTool({ name: 'resolve', arguments: { name: 'acme.com/mcp/sharpen' } })
    expect(r.structuredContent).toMatchObject({ name: 'acme.com/mcp/sharpen', version: '1.0.0' })
    const s = await client.callTool({ name: 'select', arguments: { name: 'acme.com/mcp/sharpen@^1' } })
    expect(s.structuredContent).toMatchObject({
      provider: { id: 'mcp-sharpen', endpoint: 'mcp+stdio:tools/sharpen' },
    })
  })

  it('error: refuses a function its context forbids, by tool or through call; bad arguments are named', async () => {
    const byTool = await client.callTool({ name: 'acme.com__secret__wipe', arguments: {} })
    expect(byTool.isError).toBe(true)
    expect(text(byTool)).toMatch(/^E_MCP_TOOL_NOT_OFFERED: /)
    const viaCall = await client.callTool({
      name: 'call',
      arguments: { name: 'acme.com/secret/wipe', input: {} },
    })
    expect(viaCall.isError).toBe(true)
    expect(text(viaCall)).toMatch(/^E_[A-Z_]+: /)
    expect((viaCall._meta as Record<string, { code: string }>)['function-mesh/error']!.code).toBe(
      text(viaCall).split(':')[0],
    )
    const bad = await client.callTool({ name: 'call', arguments: { nom: 'x' } })
    expect(text(bad)).toMatch(/^E_MCP_ARGUMENTS_INVALID: /)
    const usage = await t.mesh.billing.usage({ by: 'function' })
    expect(usage.map((u) => u.key)).not.toContain('acme.com/secret/wipe')
  })

  it('sends notifications/tools/list_changed when a record is published, and lists the new tool', async () => {
    const before = changes.length
    await t.publishTool(
      'count',
      'mcp+stdio:tools/count',
      imageDescriptor({ inputSchema: {}, outputSchema: {} }),
    )
    await until(() => changes.length > before, { what: 'notifications/tools/list_changed' })
    const { tools } = await client.listTools()
    expect(tools.map((tool) => tool.name)).toContain('acme.com__mcp__count')
  })

  it('an agent that cancels its call cancels the mesh call and the MCP tool behind it; nothing charged', async () => {
    await t.publishTool('hang', 'mcp+stdio:tools/hang', imageDescriptor({ outputSchema: {} }))
    await client.listTools()
    const seen = logLines().length
    const controller = new AbortController()
    const pending = client
      .callTool({ name: 'acme.com__mcp__hang', arguments: { image: 'x' } }, undefined, {
        signal: controller.signal,
      })
      .then(
        () => 'answered',
        () => 'rejected',
      )
    await until(
      () =>
        logLines()
          .slice(seen)
          .some((l) => l.startsWith('call hang')),
      { what: 'the tool call' },
    )
    controller.abort('the agent changed its mind')
    expect(await pending).toBe('rejected')
    const cancelled = await until(
      () =>
        logLines()
          .slice(seen)
          .find((l) => l.startsWith('cancelled hang')),
      {
        what: 'the tool server to see the cancellation',
      },
    )
    expect(cancelled).toContain('function-mesh: the caller cancelled the call')
    const usage = await t.mesh.billing.usage({ by: 'function' })
    expect(usage.map((u) => u.key)).not.toContain('acme.com/mcp/hang')
  })
})
