import { z } from 'zod'
import type { JsonSchema, RouteSpec } from './_route.js'
import { MeshErrorSchema } from './_schemas.js'
import { statusOf } from './status.js'

const COMMON_ERRORS = [400, 404, 500]

const STATUS_TEXT: Record<number, string> = {
  400: 'Malformed JSON (E_BODY_MALFORMED), a body or query that breaks the schema (E_REQUEST_INVALID), a bad name',
  401: 'No bearer token, or one this gateway does not know (E_UNAUTHORIZED)',
  402: 'Over the budget of the lease or the call (E_BUDGET_EXCEEDED, E_OVER_BUDGET)',
  403: 'The token may not do this, or the security context allows no provider (E_FORBIDDEN, E_NO_ALLOWED_PROVIDER)',
  404: 'No such function, version, lineage entry or route',
  409: 'Idempotency-Key reused with different input (E_IDEMPOTENCY_CONFLICT)',
  413: 'The body is over the size limit (E_BODY_TOO_LARGE)',
  415: 'The body is not declared as application/json (E_UNSUPPORTED_MEDIA_TYPE)',
  422: "The input does not match the function's inputSchema (E_INPUT_INVALID)",
  428: 'The function is exactly-once and needs an Idempotency-Key (E_IDEMPOTENCY_KEY_REQUIRED)',
  429: 'Over the rate limit of the principal (E_RATE_LIMITED; see Retry-After)',
  500: 'A failure of this node (E_INTERNAL, a ledger or configuration problem)',
  502: 'The provider or registry failed (E_PROVIDER_*, E_OUTPUT_INVALID, E_NO_VALID_RECORD)',
  503: 'No provider can be called now, or the mesh is closing (E_NO_HEALTHY_PROVIDER, E_MESH_CLOSED)',
  504: 'The deadline passed (E_DEADLINE_EXCEEDED, E_PROVIDER_TIMEOUT)',
}

function schemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema
  return rest
}

/**
 * The OpenAPI 3.1 document of the gateway, generated from its route table, so every route is in it
 * and nothing else is. Error answers are all the `MeshError` JSON; the statuses come from `statusOf`.
 */
export function openapiDocument(routes: readonly RouteSpec[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const spec of routes) {
    const parameters: unknown[] = []
    for (const [name, description] of Object.entries(spec.params ?? {}))
      parameters.push({ name, in: 'path', required: true, description, schema: { type: 'string' } })
    if (spec.query !== undefined) {
      const q = schemaOf(spec.query)
      const required = new Set((q.required as string[] | undefined) ?? [])
      for (const [name, schema] of Object.entries((q.properties ?? {}) as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          ...(description === undefined ? {} : { description }),
          schema: rest,
        })
      }
    }
    if (spec.method === 'POST') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes the call once per principal: a replay answers the first result, never charged twice',
        schema: { type: 'string', maxLength: 256 },
      })
    }
    const produces = spec.produces ?? 'application/json'
    const responses: Record<string, unknown> = {
      200: {
        description: spec.summary,
        content: { [produces]: { schema: spec.response ?? { type: 'string' } } },
      },
    }
    const statuses = new Set([...COMMON_ERRORS, ...(spec.errors ?? [])])
    if (spec.scope !== undefined) for (const s of [401, 403, 413, 415, 429]) statuses.add(s)
    for (const status of [...statuses].sort())
      responses[status] = {
        description: STATUS_TEXT[status] ?? 'See the error code',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/MeshError' } } },
      }
    const operation: Record<string, unknown> = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: [spec.tag],
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body === undefined
        ? {}
        : {
            requestBody: { required: true, content: { 'application/json': { schema: schemaOf(spec.body) } } },
          }),
      ...(spec.scope !== undefined
        ? { security: [{ bearer: [] }], 'x-fmesh-scope': spec.scope }
        : spec.optionalAuth
          ? { security: [{}, { bearer: [] }] }
          : {}),
      responses,
    }
    paths[spec.path] ??= {}
    paths[spec.path]![spec.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'function-mesh gateway',
      version,
      description:
        'HTTP API of a function-mesh node. Errors are MeshError JSON; the status of each code comes from one table (gateway/status.ts): ' +
        `for example E_FUNCTION_NOT_FOUND ${statusOf('E_FUNCTION_NOT_FOUND')}, E_INPUT_INVALID ${statusOf('E_INPUT_INVALID')}, E_DEADLINE_EXCEEDED ${statusOf('E_DEADLINE_EXCEEDED')}; an unknown code 500.`,
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from `fmesh gateway token`' },
      },
      schemas: { MeshError: MeshErrorSchema },
    },
  }
}
