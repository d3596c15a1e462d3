import { describe, expect, it } from 'vitest'
import {
  McpProtocolError,
  McpServerExitedError,
  McpToolError,
  McpUnknownServerError,
} from '../../mcp/errors.js'
import { ProviderCallError } from '../../src/errors/invoke.js'

const where = { provider: 'mcp-images', endpoint: 'mcp+stdio:images/sharpen' }

describe('MCP errors', () => {
  it('are ProviderCallErrors that say whether the request may have been delivered', () => {
    const errors = [
      new McpUnknownServerError(where, 'images', ['tools']),
      new McpServerExitedError(where, 'images', 'sharpen', 'the connection closed'),
      new McpToolError(where, 'images', 'sharpen', 'the image is corrupt'),
      new McpProtocolError(where, 'images', 'sharpen', 'it sent a message that is not JSON-RPC', {
        rpcCode: -32700,
      }),
    ]
    for (const err of errors) expect(err).toBeInstanceOf(ProviderCallError)
    expect(errors.map((e) => [e.code, e.sent, e.retryable, e.failure])).toEqual([
      ['E_MCP_UNKNOWN_SERVER', false, true, 'unavailable'],
      ['E_MCP_SERVER_EXITED', true, true, 'unavailable'],
      ['E_MCP_TOOL_ERROR', true, true, 'error'],
      ['E_MCP_PROTOCOL', true, true, 'bad-response'],
    ])
  })

  it('pins the messages', () => {
    expect(new McpUnknownServerError(where, 'images', ['tools']).message).toMatchInlineSnapshot(`
      "Provider mcp-images names MCP server "images", which this mesh does not configure
        provider: mcp-images
        endpoint: mcp+stdio:images/sharpen
        server: images
        configured: ["tools"]

      A stdio command comes only from the local config, never from a record: add it to mcpTransport({ servers: { NAME: { command, args } } }) (fmesh mcp: --servers). Nothing was sent."
    `)
    expect(
      new McpToolError(where, 'images', 'sharpen', 'the image is corrupt').toJSON(),
    ).toMatchInlineSnapshot(`
      {
        "code": "E_MCP_TOOL_ERROR",
        "details": {
          "content": "the image is corrupt",
          "endpoint": "mcp+stdio:images/sharpen",
          "provider": "mcp-images",
          "server": "images",
          "tool": "sharpen",
        },
        "hint": "The tool ran and failed (its result had isError: true). Nothing was charged; the mesh retries only where the idempotency class allows.",
        "message": "MCP tool sharpen on images reported an error: the image is corrupt
        provider: mcp-images
        endpoint: mcp+stdio:images/sharpen
        server: images
        tool: sharpen
        content: the image is corrupt

      The tool ran and failed (its result had isError: true). Nothing was charged; the mesh retries only where the idempotency class allows.",
        "name": "McpToolError",
        "shortMessage": "MCP tool sharpen on images reported an error: the image is corrupt",
      }
    `)
  })
})
