import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import type { TransportResponse } from '../src/transport/types.js'
import { BrokenCallError, type McpConnection } from './_connection.js'
import type { ConnectionPool } from './_pool.js'
import {
  McpOutputNotJsonError,
  McpProtocolError,
  McpResultMismatchError,
  McpServerExitedError,
  McpServerUnavailableError,
  McpTimeoutError,
  McpToolError,
} from './errors.js'

// What a tools/call came to: the TransportResponse of a result, or the MeshError of a failure.

interface Where {
  readonly provider: string
  readonly endpoint: string
}

/** Network errors that mean the request never reached the server. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** The MeshError a failed tools/call stands for; drops an HTTP connection that is no longer usable. */
export function callFailure(
  err: unknown,
  at: {
    where: Where
    serverName: string
    tool: string
    timeoutMs: number
    connection: McpConnection
    pool: ConnectionPool
    key: string
  },
): Error {
  const { where, serverName, tool, connection } = at
  const tail = connection.stderrTail.trim().split('\n').slice(-3).join(' | ')
  if (err instanceof BrokenCallError)
    return new McpProtocolError(where, serverName, tool, `it sent ${err.broken.reason}`, { cause: err })
  if (err instanceof McpError) {
    if (err.code === ErrorCode.ConnectionClosed)
      return new McpServerExitedError(
        where,
        serverName,
        tool,
        tail === '' ? 'the connection closed' : `the connection closed; stderr: ${tail}`,
        err,
      )
    if (err.code === ErrorCode.RequestTimeout)
      return new McpTimeoutError(where, serverName, tool, at.timeoutMs)
    return new McpProtocolError(
      where,
      serverName,
      tool,
      `tools/call answered JSON-RPC error ${err.code}: ${err.message}`,
      {
        rpcCode: err.code,
        cause: err,
      },
    )
  }
  if (err instanceof StreamableHTTPError) {
    at.pool.drop(connection)
    if (err.code === 404)
      return new McpServerUnavailableError(
        where,
        serverName,
        'the server no longer knows the session (HTTP 404)',
        err,
      )
    return new McpProtocolError(where, serverName, tool, `HTTP ${err.code ?? '?'}: ${err.message}`, {
      cause: err,
    })
  }
  const issue = zodIssue(err)
  if (issue !== undefined || err instanceof SyntaxError)
    return new McpProtocolError(
      where,
      serverName,
      tool,
      `the tools/call result is not a CallToolResult (${issue ?? (err as Error).message.slice(0, 200)})`,
      { cause: err },
    )
  const code = networkCode(err)
  if (code !== undefined || (err as Error)?.message === 'Not connected') {
    at.pool.drop(connection)
    if (code === undefined || NOT_DELIVERED.has(code))
      return new McpServerUnavailableError(where, serverName, code ?? 'not connected', err)
    return new McpServerExitedError(where, serverName, tool, `network error ${code}`, err)
  }
  return new McpProtocolError(where, serverName, tool, (err as Error)?.message ?? String(err), { cause: err })
}

/** The output of a CallToolResult: structuredContent, else one JSON text block; isError is a tool failure. */
export function toResponse(
  result: Awaited<ReturnType<McpConnection['callTool']>>,
  validateOutput:
    | (((value: unknown) => boolean) & { errors?: { instancePath?: string; message?: string }[] | null })
    | undefined,
  where: Where,
  server: string,
  tool: string,
): TransportResponse {
  const texts: string[] = []
  for (const block of result.content ?? []) if (block.type === 'text') texts.push(block.text)
  if (result.isError === true)
    throw new McpToolError(where, server, tool, texts.join('\n'), result.structuredContent)
  let output: unknown
  if (result.structuredContent !== undefined) output = result.structuredContent
  else {
    if (texts.length !== 1 || (result.content ?? []).length !== 1)
      throw new McpOutputNotJsonError(
        where,
        server,
        tool,
        `no structuredContent and ${(result.content ?? []).length} content blocks (${texts.length} text)`,
      )
    try {
      output = JSON.parse(texts[0]!)
    } catch {
      throw new McpOutputNotJsonError(
        where,
        server,
        tool,
        `the text block is not JSON: ${texts[0]!.slice(0, 80)}`,
      )
    }
  }
  if (validateOutput !== undefined && result.structuredContent !== undefined && !validateOutput(output)) {
    const e = validateOutput.errors?.[0]
    throw new McpResultMismatchError(
      where,
      server,
      tool,
      e?.instancePath || '(root)',
      e?.message ?? 'does not match',
    )
  }
  const q = (result._meta as Record<string, unknown> | undefined)?.['function-mesh/quantity']
  if (q === undefined) return { output }
  const text = typeof q === 'number' && Number.isSafeInteger(q) ? String(q) : q
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,30})$/.test(text))
    throw new McpProtocolError(
      where,
      server,
      tool,
      '_meta "function-mesh/quantity" is not a non-negative integer',
    )
  return { output, quantity: BigInt(text) }
}

export function networkCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e !== null && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** The first issue of a zod error (the SDK parses results with zod), as `path: message`. */
export function zodIssue(err: unknown): string | undefined {
  const issues = (err as { issues?: unknown })?.issues
  if (!Array.isArray(issues) || issues.length === 0) return undefined
  const first = issues[0] as { path?: unknown[]; message?: string }
  const path = Array.isArray(first.path) && first.path.length > 0 ? first.path.join('.') : '(root)'
  return `${path}: ${String(first.message ?? 'invalid').slice(0, 200)}`
}
