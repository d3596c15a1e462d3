import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { ToolSchema } from '@modelcontextprotocol/sdk/types.js'
import { Ajv } from 'ajv'
import { MeshError } from '../src/errors/base.js'
import { normalizeRecordName } from '../src/name.js'
import {
  DescriptorSchema,
  type IdempotencyClass,
  ProviderSchema,
  type RecordDraft,
  type RiskTier,
} from '../src/record/schema.js'
import { type ConnectionTarget, listRawTools, McpConnection } from './_connection.js'
import type { McpStdioServer } from './config.js'
import { formatMcpEndpoint, SERVER_NAME } from './endpoint.js'
import { McpServerSpecError, McpToolSchemaInvalidError } from './errors.js'
import { DEFAULT_CONNECT_TIMEOUT_MS } from './mcpTransport.js'

/** Where the tools come from: a connected SDK client, a stdio server to start, or a streamable HTTP URL. */
export type McpDraftSource =
  | { readonly client: Client; readonly server: string }
  | { readonly stdio: McpStdioServer; readonly server: string }
  | { readonly url: string }

/** Options of {@link recordDraftsFromMcp}. */
export interface RecordDraftOptions {
  /** The namespace the publisher owns (`acme.com`). */
  namespace: string
  /** Path segments put before each tool's name (`mcp/images` gives `acme.com/mcp/images/sharpen`). */
  path?: string
  /** @default '1.0.0' */
  version?: string
  /** Only these tools (by MCP name). @default every tool listed */
  tools?: readonly string[]
  /** Provider id. @default `mcp-<server>` */
  providerId?: string
  /** Provider cost per call. */
  cost?: { unit: string; baseUnits: string }
  signal?: AbortSignal
}

/** One tool's draft, for the publisher to review, sign and publish. */
export interface McpRecordDraft {
  readonly tool: string
  readonly draft: RecordDraft
}

// The invoker's settings (src/invoke/SchemaCache.ts): a draft compiles here exactly when the mesh can use it.
const ajv = new Ajv({ strict: false, allErrors: false, logger: false, validateFormats: false })

/**
 * Record drafts from a server's `tools/list`: one record per tool, named
 * `<namespace>/<path>/<tool>`, with the tool's inputSchema/outputSchema as the descriptor's, risk
 * and idempotency from its annotations, and one provider whose endpoint names the server and tool
 * (`mcp+stdio:SERVER/TOOL`, `mcp+http://HOST/PATH#TOOL`). Annotations map as:
 * `readOnlyHint` -> read-only, idempotent; else `destructiveHint` (MCP's default: true) ->
 * irreversible, otherwise mutation; `idempotentHint` -> idempotent, else exactly-once when destructive
 * and at-least-once when not. Drafts are not signed. A tool whose entry or schema is invalid throws
 * `McpToolSchemaInvalidError` naming it.
 *
 * @example
 * ```ts
 * const drafts = await recordDraftsFromMcp(
 *   { stdio: { command: 'node', args: ['image-server.js'] }, server: 'images' },
 *   { namespace: 'acme.com', path: 'images' },
 * )
 * for (const { draft } of drafts) await mesh.publish(draft, { signer })
 * ```
 */
export async function recordDraftsFromMcp(
  source: McpDraftSource,
  options: RecordDraftOptions,
): Promise<McpRecordDraft[]> {
  if (options === null || typeof options !== 'object' || typeof options.namespace !== 'string')
    throw new MeshError('E_INVALID_ARGUMENT', 'recordDraftsFromMcp needs { namespace }', {
      hint: "Pass the namespace you publish under: { namespace: 'acme.com' }.",
    })
  const { label, target, raw } = await listFrom(source, options.signal)
  const endpointTarget = 'url' in source ? { url: source.url } : { server: source.server }
  const version = options.version ?? '1.0.0'
  const wanted = options.tools === undefined ? undefined : new Set(options.tools)
  const drafts: McpRecordDraft[] = []
  const seen = new Set<string>()
  for (const entry of raw) {
    const name = (entry as { name?: unknown })?.name
    const toolLabel = typeof name === 'string' ? name : '(unnamed)'
    if (wanted !== undefined && !wanted.has(toolLabel)) continue
    const parsed = ToolSchema.safeParse(entry)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new McpToolSchemaInvalidError(label, toolLabel, issue.path.join('.') || 'entry', issue.message)
    }
    const tool = parsed.data
    const schemas: { inputSchema?: Record<string, unknown>; outputSchema?: Record<string, unknown> } = {}
    for (const which of ['inputSchema', 'outputSchema'] as const) {
      const given = tool[which]
      if (given === undefined) continue
      // A record's schemas are plain JSON Schema for the mesh's validator: the dialect URI goes.
      const { $schema: _dialect, ...schema } = given as Record<string, unknown>
      try {
        ajv.compile(schema)
      } catch (err) {
        throw new McpToolSchemaInvalidError(label, tool.name, which, (err as Error).message.slice(0, 300))
      }
      schemas[which] = schema
    }
    const recordName = recordNameOf(label, options.namespace, options.path, tool.name)
    if (seen.has(recordName))
      throw new McpToolSchemaInvalidError(label, tool.name, 'name', `another tool also maps to ${recordName}`)
    seen.add(recordName)
    const { maxRisk, idempotency } = classify(tool.annotations ?? {})
    const descriptor = {
      ...schemas,
      maxRisk,
      idempotency,
      allowedByDefault: false,
    }
    const d = DescriptorSchema.safeParse(descriptor)
    if (!d.success)
      throw new McpToolSchemaInvalidError(label, tool.name, 'descriptor', d.error.issues[0]!.message)
    const provider = {
      id: options.providerId ?? `mcp-${providerSlug(label)}`,
      endpoint: formatMcpEndpoint(endpointTarget, tool.name),
      ...(options.cost === undefined ? {} : { cost: options.cost }),
    }
    const p = ProviderSchema.safeParse(provider)
    if (!p.success)
      throw new McpToolSchemaInvalidError(
        label,
        tool.name,
        `provider.${p.error.issues[0]!.path.join('.')}`,
        p.error.issues[0]!.message,
      )
    const description = tool.description ?? tool.title
    drafts.push({
      tool: tool.name,
      draft: {
        name: recordName,
        ...(description === undefined ? {} : { description: description.slice(0, 2048) }),
        latestVersion: version,
        versions: {
          [version]: { deprecated: false, yanked: false, descriptor, providers: [provider] },
        },
        extensions: {
          mcp: {
            tool: tool.name,
            ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
            ...(target.kind === 'http' ? { url: target.url } : { server: target.name }),
          },
        },
      },
    })
  }
  if (wanted !== undefined)
    for (const name of wanted)
      if (!drafts.some((d) => d.tool === name))
        throw new McpToolSchemaInvalidError(label, name, 'name', 'the server does not list this tool')
  return drafts
}

/**
 * Risk and idempotency from MCP tool annotations (hints: the publisher reviews them).
 *
 * @example
 * ```ts
 * classify({ readOnlyHint: true }) // { maxRisk: 'read-only', idempotency: 'idempotent' }
 * classify({}) // { maxRisk: 'irreversible', idempotency: 'exactly-once' }: MCP's defaults are destructive
 * ```
 */
export function classify(annotations: {
  readonly readOnlyHint?: boolean | undefined
  readonly destructiveHint?: boolean | undefined
  readonly idempotentHint?: boolean | undefined
}): {
  maxRisk: RiskTier
  idempotency: IdempotencyClass
} {
  if (annotations.readOnlyHint === true) return { maxRisk: 'read-only', idempotency: 'idempotent' }
  const destructive = annotations.destructiveHint !== false
  const idempotency: IdempotencyClass =
    annotations.idempotentHint === true ? 'idempotent' : destructive ? 'exactly-once' : 'at-least-once'
  return { maxRisk: destructive ? 'irreversible' : 'mutation', idempotency }
}

async function listFrom(
  source: McpDraftSource,
  signal: AbortSignal | undefined,
): Promise<{ label: string; target: ConnectionTarget; raw: unknown[] }> {
  const requestOptions = { timeout: DEFAULT_CONNECT_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) }
  const openOptions = { timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) }
  if ('client' in source) {
    checkServerName(source.server)
    const raw = await listRawTools(source.client, requestOptions)
    return {
      label: source.server,
      target: { kind: 'stdio', name: source.server, server: { command: '' } },
      raw,
    }
  }
  let target: ConnectionTarget
  let label: string
  if ('url' in source) {
    let url: URL
    try {
      url = new URL(source.url)
    } catch {
      throw new McpServerSpecError(source.url, 'not a URL')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new McpServerSpecError(source.url, 'a streamable HTTP URL starts with http:// or https://')
    target = { kind: 'http', url: url.href }
    label = url.href
  } else {
    checkServerName(source.server)
    target = { kind: 'stdio', name: source.server, server: source.stdio }
    label = source.server
  }
  let connection: McpConnection
  try {
    connection = await McpConnection.open(target, openOptions)
  } catch (err) {
    throw new McpServerSpecError(label, `it did not start or initialize: ${(err as Error)?.message ?? err}`)
  }
  try {
    return { label, target, raw: await listRawTools(connection.client, requestOptions) }
  } finally {
    await connection.close()
  }
}

function checkServerName(server: string): void {
  if (typeof server !== 'string' || !SERVER_NAME.test(server))
    throw new McpServerSpecError(
      String(server),
      'the server name (what mcp+stdio:NAME/ names) is 1-64 letters, digits, ".", "_", "-"',
    )
}

function recordNameOf(server: string, namespace: string, path: string | undefined, tool: string): string {
  const segment = tool.toLowerCase()
  const name = [
    namespace,
    ...(path === undefined || path === '' ? [] : [path.replace(/^\/+|\/+$/g, '')]),
    segment,
  ].join('/')
  try {
    return normalizeRecordName(name)
  } catch (err) {
    throw new McpToolSchemaInvalidError(
      server,
      tool,
      'name',
      `${name} is not a record name (${(err as MeshError).shortMessage ?? (err as Error).message})`,
    )
  }
}

function providerSlug(label: string): string {
  const slug = label
    .replace(/^https?:\/\//, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return slug.slice(0, 100) || 'server'
}
