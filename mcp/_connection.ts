import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport as SdkTransport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { Ajv, type ValidateFunction } from 'ajv'
import { z } from 'zod'
import type { McpStdioServer } from './config.js'

/** What a connection is opened to. */
export type ConnectionTarget =
  | { readonly kind: 'stdio'; readonly name: string; readonly server: McpStdioServer }
  | { readonly kind: 'http'; readonly url: string }

/** One tool as the server lists it, with its outputSchema compiled (when it has a valid one). */
export interface ListedTool {
  readonly name: string
  /** The raw tools/list entry (untrusted). */
  readonly raw: Record<string, unknown>
  readonly validateOutput: ValidateFunction | undefined
}

/** Why in-flight calls of a connection were failed by the connection itself. */
export type BrokenReason = { readonly kind: 'protocol'; readonly reason: string }

/** An in-flight tools/call: how the connection cancels it, and what broke it. */
interface InFlight {
  readonly cancel: (reason: string) => void
  broken?: BrokenReason
}

const LenientToolList = z.looseObject({
  tools: z.array(z.unknown()),
  nextCursor: z.string().optional(),
})

const ajv = new Ajv({ strict: false, allErrors: false, logger: false, validateFormats: false })

/** Most bytes of a stdio server's stderr kept for error messages. */
const STDERR_TAIL = 2048

/** The name a client gives servers in `initialize`. */
export const CLIENT_INFO = { name: 'function-mesh', version: '0.1.0' }

/**
 * One live MCP client connection (a spawned stdio server or a streamable HTTP session), with the
 * tools it lists and the calls in flight. It watches the wire below the SDK: a line that is not
 * JSON-RPC, or a response to no request, fails the calls in flight (the SDK alone would leave them
 * waiting for their timeout); a late answer to a cancelled request is ignored, as the spec allows.
 */
export class McpConnection {
  readonly client: Client
  tools = new Map<string, ListedTool>()
  closed = false
  /** Why the connection closed, for error messages (a stdio server's last stderr lines). */
  stderrTail = ''
  private readonly inflight = new Set<InFlight>()
  private readonly pending = new Set<string | number>()
  private readonly cancelled = new Set<string | number>()
  /** The id of the request the SDK sent last (read right after `client.request` sent it). */
  private lastSent: string | number | undefined
  private readonly closeListeners: (() => void)[] = []
  private listing: Promise<void> | undefined

  private constructor(
    readonly target: ConnectionTarget,
    private readonly sdk: SdkTransport,
  ) {
    this.client = new Client(CLIENT_INFO, { capabilities: {} })
  }

  /** Starts (stdio) or reaches (HTTP) the server, initializes, and lists its tools. */
  static async open(
    target: ConnectionTarget,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<McpConnection> {
    const sdk: SdkTransport =
      target.kind === 'stdio'
        ? new StdioClientTransport({
            command: target.server.command,
            args: [...(target.server.args ?? [])],
            ...(target.server.env === undefined ? {} : { env: { ...target.server.env } }),
            ...(target.server.cwd === undefined ? {} : { cwd: target.server.cwd }),
            stderr: 'pipe',
          })
        : new StreamableHTTPClientTransport(new URL(target.url))
    const connection = new McpConnection(target, sdk)
    connection.watch()
    const requestOptions = {
      timeout: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }
    try {
      await connection.client.connect(sdk, requestOptions)
      connection.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        void connection.relist().catch(() => {})
      })
      await connection.listTools(requestOptions)
    } catch (err) {
      await connection.close()
      throw err
    }
    return connection
  }

  /** Calls `fn` once when the connection closes (the server exited, the session ended, or `close`). */
  onClose(fn: () => void): void {
    if (this.closed) fn()
    else this.closeListeners.push(fn)
  }

  /** Lists the tools again (after `notifications/tools/list_changed`, or when a call names a tool not listed). */
  relist(): Promise<void> {
    this.listing ??= this.listTools({ timeout: 10_000 }).finally(() => {
      this.listing = undefined
    })
    return this.listing
  }

  /**
   * Sends tools/call. The result is parsed as a CallToolResult by the SDK; whatever else goes wrong
   * is thrown as is for the transport to classify, or as {@link BrokenCallError} when the connection
   * broke the call (a malformed message while it was in flight).
   */
  async callTool(
    name: string,
    args: unknown,
    meta: Record<string, unknown>,
    options: { onAbort: (fn: () => void) => () => void; timeoutMs: number; cancelReason: () => string },
  ): Promise<CallToolResult> {
    // No AbortSignal for the SDK (it costs a controller and a listener per call): the caller's stop
    // (through onAbort) and a broken connection cancel the request by its id, as the SDK's own
    // abort would, through `cancelRequest`.
    this.lastSent = undefined
    const answer = this.client.request(
      { method: 'tools/call', params: { name, arguments: args as Record<string, unknown>, _meta: meta } },
      CallToolResultSchema,
      { timeout: options.timeoutMs },
    )
    const id = this.lastSent
    const call: InFlight = { cancel: (reason) => this.cancelRequest(id, reason) }
    const off = options.onAbort(() => call.cancel(options.cancelReason()))
    this.inflight.add(call)
    try {
      return (await answer) as CallToolResult
    } catch (err) {
      if (call.broken !== undefined) throw new BrokenCallError(call.broken, err)
      throw err
    } finally {
      this.inflight.delete(call)
      off()
    }
  }

  /**
   * Ends a request still waiting for its answer as the SDK ends one whose signal fired: its handler
   * rejects with an McpError (RequestTimeout, `reason`), through an error response handed to the
   * SDK's own message callback (which also clears its timer), and the server gets
   * `notifications/cancelled`; a late answer is then ignored.
   */
  private cancelRequest(id: string | number | undefined, reason: string): void {
    if (id === undefined || !this.pending.has(id)) return
    this.sdk.onmessage?.({ jsonrpc: '2.0', id, error: { code: ErrorCode.RequestTimeout, message: reason } })
    void this.sdk
      .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
      .catch(() => {})
  }

  async close(): Promise<void> {
    if (!this.closed) this.markClosed()
    await this.client.close().catch(() => {})
    if (this.sdk instanceof StreamableHTTPClientTransport) await this.sdk.close().catch(() => {})
  }

  private async listTools(options: { timeout: number; signal?: AbortSignal }): Promise<void> {
    const tools = new Map<string, ListedTool>()
    for (const raw of await listRawTools(this.client, options)) {
      if (raw === null || typeof raw !== 'object') continue
      const tool = raw as Record<string, unknown>
      if (typeof tool.name !== 'string') continue
      tools.set(tool.name, { name: tool.name, raw: tool, validateOutput: compileOutput(tool.outputSchema) })
    }
    this.tools = tools
  }

  /** Hooks the SDK transport's callbacks before the client takes them (it calls ours first). */
  private watch(): void {
    const sdk = this.sdk
    const send = sdk.send.bind(sdk)
    sdk.send = (message, options) => {
      const m = message as { id?: string | number; method?: string; params?: { requestId?: string | number } }
      if (m.method !== undefined && m.id !== undefined) {
        this.pending.add(m.id)
        this.lastSent = m.id
      } else if (m.method === 'notifications/cancelled' && m.params?.requestId !== undefined) {
        this.pending.delete(m.params.requestId)
        this.cancelled.add(m.params.requestId)
        if (this.cancelled.size > 1024) this.cancelled.clear()
      }
      return send(message, options)
    }
    sdk.onmessage = (message: JSONRPCMessage) => {
      const m = message as { id?: string | number; method?: string }
      if (m.method !== undefined || m.id === undefined) return
      if (this.pending.delete(m.id)) return
      if (this.cancelled.delete(m.id)) return
      this.breakInflight(`a response to no request (id ${JSON.stringify(m.id).slice(0, 40)})`)
    }
    sdk.onerror = (error: Error) => {
      if (error instanceof SyntaxError || Array.isArray((error as { issues?: unknown })?.issues))
        this.breakInflight(`a message that is not JSON-RPC (${firstLine(error.message)})`)
    }
    sdk.onclose = () => this.markClosed()
    if (sdk instanceof StdioClientTransport) {
      sdk.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL)
      })
    }
  }

  private breakInflight(reason: string): void {
    for (const call of this.inflight) {
      call.broken = { kind: 'protocol', reason }
      call.cancel(`function-mesh: the server sent ${reason}`)
    }
  }

  private markClosed(): void {
    if (this.closed) return
    this.closed = true
    for (const fn of this.closeListeners.splice(0)) fn()
  }
}

/**
 * Every page of `tools/list`, each entry as the server sent it (untrusted): the SDK's own listTools
 * refuses the whole list for one bad tool, and the caller must be able to name that tool.
 */
export async function listRawTools(
  client: Client,
  options: { timeout?: number; signal?: AbortSignal } = {},
): Promise<unknown[]> {
  const tools: unknown[] = []
  let cursor: string | undefined
  for (let page = 0; page < 100; page++) {
    const result = await client.request(
      { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
      LenientToolList,
      options,
    )
    tools.push(...result.tools)
    cursor = result.nextCursor
    if (cursor === undefined) break
  }
  return tools
}

/** A call failed because the connection broke it (see {@link McpConnection}). */
export class BrokenCallError extends Error {
  constructor(
    readonly broken: BrokenReason,
    cause: unknown,
  ) {
    super(broken.reason, { cause })
  }
}

function compileOutput(schema: unknown): ValidateFunction | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined
  try {
    return ajv.compile(schema)
  } catch {
    // An invalid outputSchema is reported by record drafting; a call then relies on the descriptor's.
    return undefined
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 160)
}
