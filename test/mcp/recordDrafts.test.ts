import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StreamableHttpHandle, serveStreamableHttp } from '../../mcp/_serveHttp.js'
import { classify, recordDraftsFromMcp } from '../../mcp/recordDrafts.js'
import { toolServer } from '../_helpers/mcpToolServer.mjs'
import { failure, mcpMesh, stdioServer } from './_mesh.js'

let http: StreamableHttpHandle
beforeAll(async () => {
  http = await serveStreamableHttp(() => toolServer({ badSchema: true }))
})
afterAll(() => http.close())

describe('record drafts from tools/list', () => {
  it('maps annotations to risk and idempotency', () => {
    expect(classify({ readOnlyHint: true })).toEqual({ maxRisk: 'read-only', idempotency: 'idempotent' })
    expect(classify({ destructiveHint: false, idempotentHint: true })).toEqual({
      maxRisk: 'mutation',
      idempotency: 'idempotent',
    })
    expect(classify({ destructiveHint: false })).toEqual({
      maxRisk: 'mutation',
      idempotency: 'at-least-once',
    })
    expect(classify({})).toEqual({ maxRisk: 'irreversible', idempotency: 'exactly-once' })
    expect(classify({ idempotentHint: true })).toEqual({ maxRisk: 'irreversible', idempotency: 'idempotent' })
  })

  it('drafts one record per tool from a stdio server; a published draft is callable under governance', async () => {
    const drafts = await recordDraftsFromMcp(
      { stdio: stdioServer(), server: 'tools' },
      {
        namespace: 'acme.com',
        path: 'mcp',
        tools: ['sharpen', 'upper', 'fail'],
        cost: { unit: 'USDC', baseUnits: '5' },
      },
    )
    expect(drafts.map((d) => d.draft.name)).toEqual([
      'acme.com/mcp/sharpen',
      'acme.com/mcp/upper',
      'acme.com/mcp/fail',
    ])
    const sharpen = drafts[0]!.draft
    expect(sharpen.versions['1.0.0']).toMatchObject({
      descriptor: {
        inputSchema: { type: 'object', required: ['image'] },
        outputSchema: { type: 'object', required: ['image'] },
        maxRisk: 'read-only',
        idempotency: 'idempotent',
        allowedByDefault: false,
      },
      providers: [
        { id: 'mcp-tools', endpoint: 'mcp+stdio:tools/sharpen', cost: { unit: 'USDC', baseUnits: '5' } },
      ],
    })
    expect(sharpen.description).toBe('Sharpen an image')
    expect(drafts[1]!.draft.versions['1.0.0']!.descriptor).toMatchObject({
      maxRisk: 'mutation',
      idempotency: 'idempotent',
    })
    expect(drafts[2]!.draft.versions['1.0.0']!.descriptor).toMatchObject({
      maxRisk: 'irreversible',
      idempotency: 'exactly-once',
    })
    expect(sharpen.signatures).toBeUndefined()

    const t = await mcpMesh({ servers: { tools: stdioServer() } })
    try {
      await t.mesh.publish(sharpen, { signer: t.signer })
      const result = await t.mesh.call('acme.com/mcp/sharpen@^1', { image: 'owl' })
      expect(result.output).toEqual({ image: 'owl!' })
      expect(result.charge).toMatchObject({ amount: 5n, currency: 'USDC' })
    } finally {
      await t.close()
    }
  })

  it('drafts from a streamable HTTP URL name the URL and tool in the endpoint', async () => {
    const drafts = await recordDraftsFromMcp({ url: http.url }, { namespace: 'acme.com', tools: ['count'] })
    expect(drafts[0]!.draft.versions['1.0.0']!.providers[0]!.endpoint).toBe(`mcp+${http.url}#count`)
  })

  it('error: a tool whose schema is invalid is named', async () => {
    const err = await failure(recordDraftsFromMcp({ url: http.url }, { namespace: 'acme.com' }))
    expect(err.code).toBe('E_MCP_TOOL_SCHEMA_INVALID')
    expect(err.message).toContain('MCP tool "broken"')
    expect(err.details).toMatchObject({ tool: 'broken', which: 'inputSchema' })
    const ok = await recordDraftsFromMcp({ url: http.url }, { namespace: 'acme.com', tools: ['sharpen'] })
    expect(ok).toHaveLength(1)
  })

  it('error: a tool that is not listed, and a server that does not start, are clear errors', async () => {
    const missing = await failure(
      recordDraftsFromMcp({ url: http.url }, { namespace: 'acme.com', tools: ['nope'] }),
    )
    expect(missing.message).toContain('the server does not list this tool')
    const dead = await failure(
      recordDraftsFromMcp(
        { stdio: { command: '/nonexistent/mcp-server' }, server: 'x' },
        { namespace: 'acme.com' },
      ),
    )
    expect(dead.code).toBe('E_MCP_SERVER_SPEC_INVALID')
    expect(dead.message).toContain('did not start')
  })
})
