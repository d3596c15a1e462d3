import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import type { Mesh } from '../src/mesh.js'
import type { Descriptor } from '../src/record/schema.js'
import type { SecurityContext } from '../src/security/SecurityContext.js'

/** One mesh function offered as an MCP tool. */
export interface FunctionTool {
  readonly tool: Tool
  /** `namespace/path`. */
  readonly function: string
  /** The version its schemas come from (calls resolve the newest the context allows). */
  readonly version: string
  /** The function's input is not an object: the tool takes it as `{ input }`. */
  readonly wrapped: boolean
  /** The output is a JSON object, so it is also the result's structuredContent. */
  readonly structured: boolean
}

/** Most functions listed as tools. @default 1000 */
export const MAX_FUNCTION_TOOLS = 1000

/** The tool name of a function: `/` becomes `__` (`acme.com/image/sharpen` -> `acme.com__image__sharpen`). */
export function toolName(fn: string): string {
  return fn.replaceAll('/', '__')
}

/**
 * The functions the mesh knows (marketplace first, then every registry's `list(pattern)`), each
 * selected under `context`: only those it allows become tools, with their descriptors' schemas.
 */
export async function functionTools(
  mesh: Mesh,
  context: SecurityContext,
  pattern: string,
  reserved: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<Map<string, FunctionTool>> {
  const names = new Set<string>(mesh.marketplace.names())
  for (const registry of mesh.registries) {
    try {
      for await (const name of registry.list(pattern, signal === undefined ? {} : { signal })) {
        names.add(name)
        if (names.size >= MAX_FUNCTION_TOOLS) break
      }
    } catch {
      // A registry that cannot list now (offline, syncing) leaves its names out of this listing.
    }
  }
  const tools = new Map<string, FunctionTool>()
  for (const fn of [...names].sort()) {
    const name = toolName(fn)
    if (name.length > 128 || reserved.has(name) || tools.has(name)) continue
    let selected: Awaited<ReturnType<Mesh['select']>>
    try {
      selected = await mesh.select(fn, context, signal === undefined ? {} : { signal })
    } catch {
      continue // not allowed under this context, or not resolvable now
    }
    tools.set(name, describe(name, fn, selected.version, selected.descriptor, selected.record.description))
  }
  return tools
}

function describe(
  name: string,
  fn: string,
  version: string,
  descriptor: Descriptor,
  description: string | undefined,
): FunctionTool {
  const input = descriptor.inputSchema
  // MCP wants an object at the root: an object schema as is (typed if it only implies it), any
  // other input under `input`.
  const objectLike =
    input === undefined ||
    input.type === 'object' ||
    (input.type === undefined && (input.properties !== undefined || input.required !== undefined))
  const wrapped = !objectLike
  const inputSchema = (
    input === undefined
      ? { type: 'object' }
      : wrapped
        ? { type: 'object', required: ['input'], properties: { input } }
        : { ...input, type: 'object' }
  ) as Tool['inputSchema']
  const output = descriptor.outputSchema
  const structured = output !== undefined && output.type === 'object'
  const readOnly = descriptor.maxRisk === 'read-only'
  const tool: Tool = {
    name,
    title: fn,
    description: `${description ?? fn} (function-mesh ${fn}@${version}; risk ${descriptor.maxRisk}, ${descriptor.idempotency})`,
    inputSchema,
    ...(structured ? { outputSchema: output as Tool['outputSchema'] } : {}),
    annotations: {
      title: fn,
      readOnlyHint: readOnly,
      destructiveHint: descriptor.maxRisk === 'irreversible' || descriptor.maxRisk === 'sensitive-mutation',
      idempotentHint: descriptor.idempotency === 'idempotent',
      openWorldHint: true,
    },
    _meta: { 'function-mesh/function': fn, 'function-mesh/version': version },
  }
  return { tool, function: fn, version, wrapped, structured }
}
