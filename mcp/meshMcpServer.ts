import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { Transport as SdkTransport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import type { z } from 'zod'
import { MeshError } from '../src/errors/base.js'
import { InvalidArgumentError } from '../src/errors/mesh.js'
import type { CallResult } from '../src/invoke/types.js'
import type { Mesh } from '../src/mesh.js'
import { SecurityContext, type SecurityContextInit } from '../src/security/SecurityContext.js'
import { BUILTIN, builtinTools, CallArgs, CallMeta, NameArgs } from './_builtinTools.js'
import { type FunctionTool, functionTools } from './_meshTools.js'
import { type StreamableHttpHandle, serveStreamableHttp } from './_serveHttp.js'
import { McpArgumentsError, McpToolNotOfferedError } from './errors.js'

/** Options of {@link meshMcpServer}. */
export interface MeshMcpServerInit {
  /** Who every call runs as: idempotency keys, usage and lineage are kept under it. */
  principal: string
  /** What the MCP client may reach: only functions it allows are listed and called. */
  context: SecurityContext | SecurityContextInit
  /** A lease id every call is paid from (its capabilities and budget apply). */
  lease?: string
  /** Which registry names become tools. @default '**' */
  pattern?: string
  /** The server's name in `initialize`. @default 'function-mesh' */
  name?: string
}

/** The mesh served to MCP clients: stdio through `connect`, streamable HTTP through `serveHttp`. */
export interface MeshMcpServer {
  /** A new SDK server bound to the mesh (one per connection). */
  createServer(): Server
  /** Serves one connection (e.g. a `StdioServerTransport`); resolves once connected. */
  connect(transport: SdkTransport): Promise<Server>
  /** Streamable HTTP on 127.0.0.1 (port 0: any free port), one session per client. */
  serveHttp(options?: { port?: number; path?: string }): Promise<StreamableHttpHandle>
  /** The tools a client sees now. */
  listTools(options?: { signal?: AbortSignal }): Promise<Tool[]>
  /** Tells every connected client its tool list changed (records changes do this by themselves). */
  notifyToolsChanged(): void
  /** Stops listening to the mesh and closes every connection. */
  close(): Promise<void>
}

/**
 * Serves the mesh to MCP clients (agents): tools `resolve`, `select` and `call`, and one tool per
 * function the configured security context allows (`acme.com/image/sharpen` as
 * `acme.com__image__sharpen`), with its descriptor's schemas (an idempotency key and a timeout go
 * in the request `_meta` as `function-mesh/idempotency-key` and `function-mesh/timeout-ms`). Every call runs through `mesh.call`
 * under the configured principal, context and lease, so it is governed, in the lineage and billed.
 * A record published or changed in a registry sends `notifications/tools/list_changed`.
 *
 * @example
 * ```ts
 * const server = meshMcpServer(mesh, { principal: 'agent-1', context: { level: 'controlled', allowedFunctionPatterns: ['acme.com/**'] } })
 * await server.connect(new StdioServerTransport())
 * ```
 */
export function meshMcpServer(mesh: Mesh, init: MeshMcpServerInit): MeshMcpServer {
  if (mesh === null || typeof mesh !== 'object' || typeof mesh.call !== 'function')
    throw new InvalidArgumentError('meshMcpServer', 'mesh', 'a mesh from createMesh', mesh)
  if (
    init === null ||
    typeof init !== 'object' ||
    typeof init.principal !== 'string' ||
    init.principal === ''
  )
    throw new InvalidArgumentError('meshMcpServer', 'principal', 'a non-empty string', init?.principal)
  const context = SecurityContext.from(init.context)
  return new MeshServer(mesh, { ...init, context })
}

class MeshServer implements MeshMcpServer {
  private readonly servers = new Set<Server>()
  private readonly http = new Set<StreamableHttpHandle>()
  private readonly offs: (() => void)[] = []
  private readonly reserved = new Set<string>(BUILTIN)
  private known = new Map<string, FunctionTool>()
  private notifyQueued = false
  private closed = false

  constructor(
    private readonly mesh: Mesh,
    private readonly init: MeshMcpServerInit & { context: SecurityContext },
  ) {
    const changed = () => this.notifyToolsChanged()
    this.offs.push(mesh.events.on('publish', changed), mesh.events.on('change', changed))
  }

  createServer(): Server {
    const server = new Server(
      { name: this.init.name ?? 'function-mesh', version: '0.1.0' },
      {
        capabilities: { tools: { listChanged: true } },
        instructions:
          'function-mesh: call signed, governed functions by name. Use resolve to read a function descriptor, call to run it; every call is billed and recorded under this server principal.',
      },
    )
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
      tools: await this.listTools({ signal: extra.signal }),
    }))
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      this.callTool(request.params.name, request.params.arguments, request.params._meta, extra.signal),
    )
    this.servers.add(server)
    server.onclose = () => this.servers.delete(server)
    return server
  }

  async connect(transport: SdkTransport): Promise<Server> {
    const server = this.createServer()
    await server.connect(transport)
    return server
  }

  async serveHttp(options: { port?: number; path?: string } = {}): Promise<StreamableHttpHandle> {
    const handle = await serveStreamableHttp(() => this.createServer(), options)
    this.http.add(handle)
    return handle
  }

  async listTools(options: { signal?: AbortSignal } = {}): Promise<Tool[]> {
    this.known = await functionTools(
      this.mesh,
      this.init.context,
      this.init.pattern ?? '**',
      this.reserved,
      options.signal,
    )
    return [...builtinTools, ...[...this.known.values()].map((t) => t.tool)]
  }

  notifyToolsChanged(): void {
    if (this.notifyQueued || this.closed) return
    this.notifyQueued = true
    setImmediate(() => {
      this.notifyQueued = false
      for (const server of this.servers) void server.sendToolListChanged().catch(() => {})
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const off of this.offs.splice(0)) off()
    for (const handle of this.http) await handle.close()
    for (const server of [...this.servers]) await server.close().catch(() => {})
    this.servers.clear()
  }

  private async callTool(
    name: string,
    args: unknown,
    meta: unknown,
    signal: AbortSignal,
  ): Promise<CallToolResult> {
    try {
      if (name === 'resolve' || name === 'select')
        return await this.describe(name, parse(name, NameArgs, args))
      if (name === 'call') {
        const a = parse(name, CallArgs, args)
        const result = await this.run(a.name, a.input ?? {}, a, signal)
        return ok(summary(result), true)
      }
      let fn = this.known.get(name)
      if (fn === undefined) {
        await this.listTools({ signal })
        fn = this.known.get(name)
      }
      if (fn === undefined) throw new McpToolNotOfferedError(name)
      const m = parse(`${name} _meta`, CallMeta, meta ?? {})
      const raw = (args ?? {}) as Record<string, unknown>
      const input = fn.wrapped ? raw.input : raw
      const result = await this.run(
        fn.function,
        input,
        { idempotencyKey: m['function-mesh/idempotency-key'], timeoutMs: m['function-mesh/timeout-ms'] },
        signal,
      )
      const structured = fn.structured && isPlainObject(result.output)
      return {
        content: [{ type: 'text', text: JSON.stringify(result.output) }],
        ...(structured ? { structuredContent: result.output as Record<string, unknown> } : {}),
        _meta: { 'function-mesh/result': summary(result, false) },
      }
    } catch (err) {
      return failed(err)
    }
  }

  private async describe(
    tool: 'resolve' | 'select',
    args: z.infer<typeof NameArgs>,
  ): Promise<CallToolResult> {
    const selected = await this.mesh.select(args.name, this.init.context, {
      ...(args.includeDeprecated === undefined ? {} : { includeDeprecated: args.includeDeprecated }),
    })
    const providers = selected.candidates.map((c) => c.provider)
    if (tool === 'resolve')
      return ok(
        {
          name: selected.name,
          version: selected.version,
          description: selected.record.description,
          descriptor: selected.descriptor,
          providers,
        },
        true,
      )
    return ok(
      {
        name: selected.name,
        version: selected.version,
        provider: selected.provider,
        candidates: providers.map((p) => p.id),
        strategy: selected.strategy,
        reason: selected.reason,
      },
      true,
    )
  }

  private run(
    name: string,
    input: unknown,
    options: { idempotencyKey?: string | undefined; timeoutMs?: number | undefined },
    signal: AbortSignal,
  ): Promise<CallResult> {
    return this.mesh.call(name, input, {
      principal: this.init.principal,
      context: this.init.context,
      signal,
      ...(this.init.lease === undefined ? {} : { lease: this.init.lease }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    })
  }
}

function parse<T>(tool: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  throw new McpArgumentsError(tool, issue.path.map(String).join('.'), issue.message)
}

function summary(result: CallResult, withOutput = true): Record<string, unknown> {
  return {
    ...(withOutput ? { output: result.output } : {}),
    version: result.version,
    provider: result.provider.id,
    invocationId: result.invocationId,
    attempts: result.attempts,
    replayed: result.replayed,
    lineage: result.lineage.completed,
    charge: {
      amount: result.charge.amount.toString(),
      currency: result.charge.currency ?? null,
      quantity: result.charge.quantity.toString(),
    },
  }
}

function ok(value: Record<string, unknown>, structured: boolean): CallToolResult {
  const json = JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
  return {
    content: [{ type: 'text', text: JSON.stringify(json) }],
    ...(structured ? { structuredContent: json } : {}),
  }
}

/** A failure as the MCP client sees it: isError with `CODE: message`, and the MeshError JSON in _meta. */
function failed(err: unknown): CallToolResult {
  if (err instanceof MeshError) {
    const cause = err.cause instanceof MeshError ? `\ncause ${err.cause.code}: ${err.cause.shortMessage}` : ''
    return {
      isError: true,
      content: [{ type: 'text', text: `${err.code}: ${err.message}${cause}` }],
      _meta: { 'function-mesh/error': JSON.parse(JSON.stringify(err.toJSON())) },
    }
  }
  return {
    isError: true,
    content: [{ type: 'text', text: `E_INTERNAL: ${(err as Error)?.message ?? String(err)}` }],
  }
}

function isPlainObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
