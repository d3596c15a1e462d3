import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StreamableHttpHandle, serveStreamableHttp } from '../../mcp/_serveHttp.js'
import { toolServer } from '../_helpers/mcpToolServer.mjs'
import { failure, imageDescriptor, mcpMesh } from './_mesh.js'

let server: StreamableHttpHandle
let t: Awaited<ReturnType<typeof mcpMesh>>
beforeAll(async () => {
  server = await serveStreamableHttp(() => toolServer())
  t = await mcpMesh({})
})
afterAll(async () => {
  await t.close()
  await server.close()
})

describe('mcp+http: MCP tools over streamable HTTP on 127.0.0.1', () => {
  it('calls the tool named after "#" under governance: lineage and charge', async () => {
    const endpoint = `mcp+${server.url}#sharpen`
    const name = await t.publishTool('sharpen', endpoint)
    const result = await t.mesh.call<{ image: string }>(name, { image: 'dog' }, { principal: 'alice' })
    expect(result.output).toEqual({ image: 'dog!' })
    expect(result.charge).toMatchObject({ amount: 25n, currency: 'USDC', entry: result.lineage.completed })
    const entries = await t.mesh.lineage.entries(result.invocationId)
    expect(entries.map((e) => e.entry.type)).toEqual(['FUNCTION_INVOKED', 'FUNCTION_COMPLETED'])
    expect(entries[0]!.entry).toMatchObject({ endpoint })
    await t.mesh.call(name, { image: 'cat' })
    expect(t.transport.opened.get(`http:${server.url}`)).toBe(1)
    expect(server.sessions).toBe(1)
  })

  it('error: isError over HTTP is E_MCP_TOOL_ERROR; a wrong tool is E_MCP_UNKNOWN_TOOL; nothing charged', async () => {
    const fail = await t.publishTool('fail', `mcp+${server.url}#fail`, imageDescriptor({ outputSchema: {} }))
    const err = await failure(t.mesh.call(fail, { image: 'x' }, { maxAttempts: 1, principal: 'bob' }))
    expect(err.cause).toMatchObject({ code: 'E_MCP_TOOL_ERROR', sent: true })
    const nope = await t.publishTool('nope', `mcp+${server.url}#nope`)
    const err2 = await failure(t.mesh.call(nope, { image: 'x' }, { maxAttempts: 1, principal: 'bob' }))
    expect(err2.cause).toMatchObject({ code: 'E_MCP_UNKNOWN_TOOL', sent: false })
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'bob' }),
    )
  })

  it('error: a server that is gone is E_MCP_SERVER_UNAVAILABLE (not sent); one that comes back is reconnected', async () => {
    const other = await serveStreamableHttp(() => toolServer())
    const port = other.port
    const name = await t.publishTool('sharpen2', `mcp+${other.url}#sharpen`)
    expect((await t.mesh.call(name, { image: 'a' })).output).toEqual({ image: 'a!' })
    await other.close()
    // The first call may go out on a socket the server just closed: the request may have been
    // written, so it counts as sent; the connection is dropped either way.
    const first = await failure(t.mesh.call(name, { image: 'b' }, { maxAttempts: 1, principal: 'carol' }))
    expect(['E_MCP_SERVER_UNAVAILABLE', 'E_MCP_SERVER_EXITED']).toContain(first.cause!.code)
    const err = await failure(t.mesh.call(name, { image: 'b' }, { maxAttempts: 1, principal: 'carol' }))
    expect(err.cause).toMatchObject({ code: 'E_MCP_SERVER_UNAVAILABLE', sent: false })
    const back = await serveStreamableHttp(() => toolServer(), { port })
    try {
      // The old session is unknown to the new server: refused (not sent), then a new session works.
      const result = await t.mesh.call(name, { image: 'c' }, { maxAttempts: 3 })
      expect(result.output).toEqual({ image: 'c!' })
    } finally {
      await back.close()
    }
    expect(await t.mesh.billing.usage({ by: 'principal' })).not.toContainEqual(
      expect.objectContaining({ key: 'carol' }),
    )
  })
})
