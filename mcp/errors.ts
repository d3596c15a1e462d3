import { MeshError } from '../src/errors/base.js'
import { ProviderCallError } from '../src/errors/invoke.js'

// Errors of the MCP transport, record drafts and the mesh's MCP server. Every failure of one attempt
// is a ProviderCallError: `sent` says whether the tools/call may have reached the server (what decides
// a retry of at-least-once and exactly-once functions), `retryable` whether another attempt (another
// provider, a restarted server) could help.

interface Where {
  readonly provider: string
  readonly endpoint: string
}

/** The endpoint names a stdio server that is not in this mesh's local `servers` config. */
export class McpUnknownServerError extends ProviderCallError {
  override name = 'McpUnknownServerError'
  constructor(where: Where, server: string, known: readonly string[]) {
    super(
      'E_MCP_UNKNOWN_SERVER',
      `Provider ${where.provider} names MCP server "${server}", which this mesh does not configure`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { ...where, server, configured: known },
        hint: 'A stdio command comes only from the local config, never from a record: add it to mcpTransport({ servers: { NAME: { command, args } } }) (fmesh mcp: --servers). Nothing was sent.',
      },
    )
  }
}

/** The server does not list the tool the endpoint names. */
export class McpUnknownToolError extends ProviderCallError {
  override name = 'McpUnknownToolError'
  constructor(where: Where, server: string, tool: string, listed: readonly string[]) {
    super(
      'E_MCP_UNKNOWN_TOOL',
      `MCP server ${server} has no tool "${tool}" (provider ${where.provider})`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { ...where, server, tool, listed: listed.slice(0, 50) },
        hint: 'The record and the server disagree: check the tool name after the "/" (stdio) or "#" (HTTP) of the endpoint against `tools/list`. Nothing was sent.',
      },
    )
  }
}

/** The server could not be started, reached or initialized; nothing was sent for this call. */
export class McpServerUnavailableError extends ProviderCallError {
  override name = 'McpServerUnavailableError'
  constructor(where: Where, server: string, reason: string, cause?: unknown) {
    super(
      'E_MCP_SERVER_UNAVAILABLE',
      `MCP server ${server} is unavailable: ${reason}`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { ...where, server },
        hint: 'Check the command (stdio) or the URL (HTTP) and that the server starts on its own; the next call starts a new connection. Nothing was sent.',
        cause,
      },
    )
  }
}

/** The server process exited (or the connection closed) while the call was in flight. */
export class McpServerExitedError extends ProviderCallError {
  override name = 'McpServerExitedError'
  constructor(where: Where, server: string, tool: string, reason: string, cause?: unknown) {
    super(
      'E_MCP_SERVER_EXITED',
      `MCP server ${server} went away during a call to ${tool}: ${reason}`,
      { sent: true, retryable: true, failure: 'unavailable' },
      {
        details: { ...where, server, tool },
        hint: 'The tool may have run. The pool restarts the server on the next call; the mesh retries only where the idempotency class allows. Nothing was charged.',
        cause,
      },
    )
  }
}

/** The tool answered with `isError: true`. */
export class McpToolError extends ProviderCallError {
  override name = 'McpToolError'
  readonly content: string
  constructor(where: Where, server: string, tool: string, content: string, structured?: unknown) {
    super(
      'E_MCP_TOOL_ERROR',
      `MCP tool ${tool} on ${server} reported an error: ${content.slice(0, 200) || '(no text)'}`,
      { sent: true, retryable: true, failure: 'error' },
      {
        details: {
          ...where,
          server,
          tool,
          content: content.slice(0, 2000),
          ...(structured === undefined ? {} : { structuredContent: structured }),
        },
        hint: 'The tool ran and failed (its result had isError: true). Nothing was charged; the mesh retries only where the idempotency class allows.',
      },
    )
    this.content = content
  }
}

/**
 * The server broke the protocol: a message that is not JSON-RPC, a response to no request, a result
 * that is not a CallToolResult, or a JSON-RPC error answering tools/call.
 */
export class McpProtocolError extends ProviderCallError {
  override name = 'McpProtocolError'
  readonly rpcCode: number | undefined
  constructor(
    where: Where,
    server: string,
    tool: string,
    reason: string,
    extra: { rpcCode?: number; cause?: unknown } = {},
  ) {
    super(
      'E_MCP_PROTOCOL',
      `MCP server ${server} broke the protocol calling ${tool}: ${reason}`,
      { sent: true, retryable: true, failure: 'bad-response' },
      {
        details: {
          ...where,
          server,
          tool,
          ...(extra.rpcCode === undefined ? {} : { rpcCode: extra.rpcCode }),
        },
        hint: 'Responses are untrusted input: the server must answer tools/call with a JSON-RPC result that is a CallToolResult. Nothing was charged.',
        cause: extra.cause,
      },
    )
    this.rpcCode = extra.rpcCode
  }
}

/** The result does not answer the tool called: it breaks the outputSchema the server lists for that tool. */
export class McpResultMismatchError extends ProviderCallError {
  override name = 'McpResultMismatchError'
  constructor(where: Where, server: string, tool: string, path: string, rule: string) {
    super(
      'E_MCP_RESULT_MISMATCH',
      `MCP server ${server} answered ${tool} with a result that is not ${tool}'s: structuredContent${path === '(root)' ? '' : ` at ${path}`} ${rule}`,
      { sent: true, retryable: true, failure: 'bad-response' },
      {
        details: { ...where, server, tool, path, rule },
        hint: 'The result breaks the outputSchema the server itself lists for this tool (an answer meant for another tool or request). Nothing was charged.',
      },
    )
  }
}

/** The result carries neither structuredContent nor a text block that is JSON. */
export class McpOutputNotJsonError extends ProviderCallError {
  override name = 'McpOutputNotJsonError'
  constructor(where: Where, server: string, tool: string, reason: string) {
    super(
      'E_MCP_OUTPUT_NOT_JSON',
      `MCP tool ${tool} on ${server} returned no JSON output: ${reason}`,
      { sent: true, retryable: false, failure: 'bad-response' },
      {
        details: { ...where, server, tool },
        hint: 'A governed call needs JSON output: the tool must return structuredContent (with an outputSchema) or one text block holding JSON. Nothing was charged.',
      },
    )
  }
}

/** The SDK's own request timer fired before the mesh's deadline did (the mesh's clock lags the machine's). */
export class McpTimeoutError extends ProviderCallError {
  override name = 'McpTimeoutError'
  constructor(where: Where, server: string, tool: string, timeoutMs: number) {
    super(
      'E_MCP_TIMEOUT',
      `MCP server ${server} did not answer ${tool} within ${timeoutMs} ms`,
      { sent: true, retryable: true, failure: 'timeout' },
      {
        details: { ...where, server, tool, timeoutMs },
        hint: 'The request was cancelled with notifications/cancelled; the tool may still have run. Nothing was charged.',
      },
    )
  }
}

/** An `mcp+` endpoint that does not follow the syntax. */
export class McpEndpointInvalidError extends ProviderCallError {
  override name = 'McpEndpointInvalidError'
  constructor(provider: string, endpoint: string, rule: string) {
    super(
      'E_MCP_ENDPOINT_INVALID',
      `Provider ${provider} has an invalid MCP endpoint: ${rule}`,
      { sent: false, retryable: true, failure: 'unavailable' },
      {
        details: { provider, endpoint, rule },
        hint: 'Use mcp+stdio:SERVER/TOOL (SERVER from the local config) or mcp+http(s)://HOST:PORT/PATH#TOOL. Nothing was sent.',
      },
    )
  }
}

/** The MCP transport's configuration is malformed. */
export class McpConfigError extends MeshError {
  override name = 'McpConfigError'
  constructor(path: string, rule: string, value?: unknown) {
    super('E_MCP_CONFIG_INVALID', `Invalid MCP configuration at ${path || '(root)'}: ${rule}`, {
      details: {
        path: path || '(root)',
        rule,
        ...(value === undefined ? {} : { value: String(value).slice(0, 200) }),
      },
      hint: 'servers: { NAME: { command: "node", args: ["server.js"], env?: {...}, cwd?: "..." } }; NAME is letters, digits, ".", "_", "-".',
    })
  }
}

/** A tool listed by the server cannot become a record draft (its schema is not valid JSON Schema, its name no record path). */
export class McpToolSchemaInvalidError extends MeshError {
  override name = 'McpToolSchemaInvalidError'
  constructor(server: string, tool: string, which: string, reason: string) {
    super('E_MCP_TOOL_SCHEMA_INVALID', `MCP tool "${tool}" on ${server} has an invalid ${which}: ${reason}`, {
      details: { server, tool, which, reason },
      hint: 'Fix the tool on the server (its tools/list entry), or leave it out with --tool. No draft was made for it.',
    })
  }
}

/** What `fmesh record from-mcp` / `recordDraftsFromMcp` was given does not name an MCP server. */
export class McpServerSpecError extends MeshError {
  override name = 'McpServerSpecError'
  constructor(spec: string, rule: string) {
    super('E_MCP_SERVER_SPEC_INVALID', `Cannot connect to MCP server "${spec.slice(0, 200)}": ${rule}`, {
      details: { server: spec.slice(0, 200), rule },
      hint: 'Give a command line (`node server.js --flag`) or a streamable HTTP URL (`http://127.0.0.1:3000/mcp`).',
    })
  }
}

/** An MCP client called a tool of the mesh's server with arguments it does not take. */
export class McpArgumentsError extends MeshError {
  override name = 'McpArgumentsError'
  constructor(tool: string, path: string, rule: string) {
    super('E_MCP_ARGUMENTS_INVALID', `Tool ${tool}: arguments${path === '' ? '' : `.${path}`} ${rule}`, {
      details: { tool, path: path || '(root)', rule },
      hint: 'See the tool inputSchema in tools/list. Nothing was called.',
    })
  }
}

/** An MCP client called a tool the mesh's server does not offer under its security context. */
export class McpToolNotOfferedError extends MeshError {
  override name = 'McpToolNotOfferedError'
  constructor(tool: string) {
    super(
      'E_MCP_TOOL_NOT_OFFERED',
      `This mesh offers no tool "${tool.slice(0, 128)}" under its security context`,
      {
        details: { tool: tool.slice(0, 128) },
        hint: 'Call tools/list for the tools this server offers; a function the configured context forbids is never listed or called.',
      },
    )
  }
}
