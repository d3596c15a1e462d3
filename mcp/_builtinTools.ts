import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'

// The mesh server's own tools (resolve, select, call) and the arguments it takes, as MCP clients see them.

export const BUILTIN = ['resolve', 'select', 'call'] as const

export const NameArgs = z.strictObject({
  name: z.string().min(1).max(300),
  includeDeprecated: z.boolean().optional(),
})
export const CallArgs = z.strictObject({
  name: z.string().min(1).max(300),
  input: z.unknown().optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  timeoutMs: z.number().int().positive().max(86_400_000).optional(),
})
/** What a function tool's caller may pass in the request `_meta`. */
export const CallMeta = z.looseObject({
  'function-mesh/idempotency-key': z.string().min(1).max(256).optional(),
  'function-mesh/timeout-ms': z.number().int().positive().max(86_400_000).optional(),
})

const nameInput: Tool['inputSchema'] = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', description: 'NAME[@VERSION-RANGE], e.g. acme.com/image/sharpen@^1.2' },
    includeDeprecated: { type: 'boolean' },
  },
  additionalProperties: false,
}

export const builtinTools: Tool[] = [
  {
    name: 'resolve',
    description:
      'Resolve a mesh function name (NAME[@RANGE]) to its signed record: version, descriptor (input/output schema, risk, idempotency), the providers this server may call, where it came from and how it was verified.',
    inputSchema: nameInput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  },
  {
    name: 'select',
    description:
      'Pick the provider a call to NAME[@RANGE] would use under this server security context, with the candidates and the reason.',
    inputSchema: nameInput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  },
  {
    name: 'call',
    description:
      'Call a mesh function under governance (schemas, deadline, safe retries, lineage, billing) as this server principal, context and lease. Returns the output, version, provider, invocation id, lineage and charge.',
    inputSchema: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', description: 'NAME[@RANGE]' },
        input: { description: 'The function input (see its inputSchema from resolve)' },
        idempotencyKey: { type: 'string', description: 'Required for exactly-once functions' },
        timeoutMs: { type: 'integer', minimum: 1 },
      },
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  },
]
