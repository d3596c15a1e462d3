import { z } from 'zod'
import { LineageEntryNotFoundError } from '../src/errors/ledger.js'
import type { CallOptions, CallResult } from '../src/invoke/types.js'
import { STRATEGY_NAMES } from '../src/select/types.js'
import type { Principal } from './_auth.js'
import { errorBody, json, jsonText, stringifyPlain } from './_json.js'
import { type GatewayContext, type RouteSpec, route } from './_route.js'
import { sameTurn } from './_sameTurn.js'
import {
  CallResultSchema,
  CheckpointSchema,
  DispatchSchema,
  LineageSchema,
  ProofSchema,
  RecentCallsSchema,
} from './_schemas.js'
import { ForbiddenError, RequestInvalidError } from './errors.js'

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,256}$/
const entryId = z.string().regex(/^[A-Za-z0-9:@._-]{1,200}$/, 'an entry or invocation id')

/** Options shared by call and dispatch. */
const governance = {
  timeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('Deadline of the whole call, ms'),
  attemptTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  maxQuantity: z
    .string()
    .regex(/^[1-9][0-9]{0,30}$/, 'a positive integer as a decimal string')
    .optional()
    .describe('Most units of work the provider may bill'),
}

const CallBody = z.strictObject({
  name: z.string().min(1).max(600).describe('NAME[@VERSION|@RANGE]'),
  input: z.unknown().describe('The function input (any JSON; checked against its inputSchema)'),
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY, '1-256 visible ASCII characters').optional(),
  strategy: z.enum(STRATEGY_NAMES).optional(),
  retryUnsafe: z.boolean().optional(),
  principal: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("Call as this principal instead of the token's (admin scope only)"),
  lease: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe("Pay from this lease instead of the token's (admin scope only)"),
  ...governance,
})

const DispatchBody = z.strictObject({
  kind: z
    .string()
    .min(1)
    .max(200)
    .describe('The trigger event kind (a descriptor lists it in triggerEvents)'),
  event: z.unknown().describe('The event payload, handed to each function as its input'),
  idempotencyKey: z
    .string()
    .regex(IDEMPOTENCY_KEY, '1-256 visible ASCII characters')
    .optional()
    .describe('Each function runs at most once for this key (as <key>/<name>@<version>)'),
  ...governance,
})

export const callRoutes: readonly RouteSpec[] = [
  route({
    method: 'POST',
    path: '/v1/call',
    operationId: 'call',
    tag: 'calls',
    summary: "Call a function under governance, as the token's principal, security context and lease",
    description:
      'The Idempotency-Key header (or idempotencyKey in the body) makes the call once: a replay answers the first result and is never charged again (Idempotency-Replayed: true).',
    scope: 'call',
    body: CallBody,
    response: CallResultSchema,
    errors: [401, 402, 403, 409, 413, 415, 422, 428, 429, 502, 503, 504],
    handle: async ({ c, gw, body, principal, header }) => {
      const caller = principal as Principal
      // The CLI's Ctrl-C closes its request: its call on the node is cancelled with it, as a call in
      // the CLI's own process would be (failed in the lineage, never charged).
      const signal = caller.scopes.has('admin') ? c.req.raw.signal : undefined
      const sent = { idempotencyKey: header('idempotency-key'), traceparent: header('traceparent') }
      const { text, headers } = await callAnswer(gw, body, caller, sent, signal)
      return jsonText(text, 200, headers)
    },
  }),
  route({
    method: 'POST',
    path: '/v1/dispatch',
    operationId: 'dispatch',
    tag: 'calls',
    summary: 'Dispatch an event: call every local function whose triggerEvents include its kind',
    description:
      'Each function is its own governed call with its own lineage; failures are reported per result.',
    scope: 'dispatch',
    body: DispatchBody,
    response: DispatchSchema,
    errors: [401, 403, 413, 415, 429],
    handle: async (req) => {
      const { body, gw } = req
      await sameTurn()
      const options = callOptions(req.principal as Principal, req.header('traceparent'), body)
      if (body.idempotencyKey !== undefined) options.idempotencyKey = body.idempotencyKey
      const results = await gw.mesh.dispatch(body.kind, body.event ?? null, options)
      return json({
        kind: body.kind,
        results: results.map((r) =>
          r.ok
            ? { name: r.name, version: r.version, ok: true, result: callBody(r.name, r.result) }
            : { name: r.name, version: r.version, ok: false, error: errorBody(r.error) },
        ),
      })
    },
  }),
  route({
    method: 'GET',
    path: '/v1/calls',
    operationId: 'recentCalls',
    tag: 'calls',
    summary: 'Calls this node made since the gateway started, newest first, with lineage status and charge',
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
    response: RecentCallsSchema,
    handle: ({ gw, query }) => json({ calls: gw.state.recentCalls(query.limit ?? 100) }),
  }),
  route({
    method: 'GET',
    path: '/v1/calls/{invocationId}/lineage',
    operationId: 'lineageEntries',
    tag: 'lineage',
    summary: 'Every lineage entry of one call (all attempts), in log order',
    params: { invocationId: 'The invocationId of a call result' },
    response: LineageSchema,
    errors: [404],
    handle: async ({ gw, params }) => {
      const id = checkId('invocationId', params.invocationId)
      const entries = await gw.mesh.lineage.entries(id)
      if (entries.length === 0) throw new LineageEntryNotFoundError(id)
      return json({ invocationId: id, entries })
    },
  }),
  route({
    method: 'GET',
    path: '/v1/lineage/proofs/{entryId}',
    operationId: 'inclusionProof',
    tag: 'lineage',
    summary:
      'An inclusion proof of a lineage entry against a signed checkpoint (check it with verifyInclusion)',
    params: { entryId: 'A lineage entry id (a call result lineage.completed, say)' },
    response: ProofSchema,
    errors: [404],
    handle: async ({ gw, params }) => json(await gw.mesh.lineage.proof(checkId('entryId', params.entryId))),
  }),
  route({
    method: 'GET',
    path: '/v1/lineage/checkpoint',
    operationId: 'checkpoint',
    tag: 'lineage',
    summary: 'A checkpoint of the lineage log as it is now, signed by the ledger key',
    response: CheckpointSchema,
    handle: async ({ gw }) => json(await gw.mesh.lineage.checkpoint()),
  }),
  route({
    method: 'GET',
    path: '/v1/lineage/key',
    operationId: 'ledgerKey',
    tag: 'lineage',
    summary: 'The ledger key (did:key) that signs checkpoints: publish it and pin it when verifying',
    response: { type: 'object', properties: { keyId: { type: 'string' } }, required: ['keyId'] },
    handle: async ({ gw }) => json({ keyId: await gw.mesh.lineage.keyId() }),
  }),
]

/** The request headers a call reads (repeated headers joined with `, `). */
export interface CallHeaders {
  readonly idempotencyKey: string | undefined
  readonly traceparent: string | undefined
}

/**
 * What `POST /v1/call` answers for a checked body: the call made under the token's principal,
 * context and lease, as JSON text and the headers beside it. Shared by the hono route and the Node
 * fast path (see fastRoutes) so both run the same call.
 */
export async function callAnswer(
  gw: GatewayContext,
  body: z.output<typeof CallBody>,
  principal: Principal,
  headers: CallHeaders,
  signal?: AbortSignal,
): Promise<{ text: string; headers: Readonly<Record<string, string>> | undefined }> {
  if (!Object.hasOwn(body, 'input'))
    throw new RequestInvalidError(
      'body',
      'input',
      'is required (the function input, any JSON; null for none)',
    )
  const options = callOptions(principal, headers.traceparent, body)
  const key = idempotencyKey(headers.idempotencyKey, body.idempotencyKey)
  if (key !== undefined) options.idempotencyKey = key
  if (body.strategy !== undefined) options.select = { strategy: body.strategy }
  if (body.retryUnsafe !== undefined) options.retryUnsafe = body.retryUnsafe
  // Another principal or lease is the CLI's on its own node's data dir (the admin token).
  if (body.principal !== undefined || body.lease !== undefined) {
    if (!principal.scopes.has('admin')) throw new ForbiddenError(principal.principal, 'admin')
    if (body.principal !== undefined) options.principal = body.principal
    if (body.lease !== undefined) options.lease = body.lease
  }
  if (signal !== undefined) options.signal = signal
  await sameTurn()
  const result = await gw.mesh.call(body.name, body.input, options)
  return {
    text: stringifyPlain(callBody(body.name, result)),
    headers: result.replayed ? REPLAYED : undefined,
  }
}

const REPLAYED: Readonly<Record<string, string>> = Object.freeze({ 'idempotency-replayed': 'true' })

function checkId(field: string, value: string | undefined): string {
  const parsed = entryId.safeParse(value)
  if (!parsed.success) throw new RequestInvalidError('path', field, parsed.error.issues[0]!.message)
  return parsed.data
}

/** The token's principal, context and lease, and the body's governance options. */
function callOptions(
  principal: Principal,
  traceparent: string | undefined,
  body: {
    timeoutMs?: number | undefined
    attemptTimeoutMs?: number | undefined
    maxAttempts?: number | undefined
    maxQuantity?: string | undefined
  },
): CallOptions {
  const options: CallOptions = { principal: principal.principal }
  if (principal.context !== undefined) options.context = principal.context
  if (principal.lease !== undefined) options.lease = principal.lease
  if (body.timeoutMs !== undefined) options.timeoutMs = body.timeoutMs
  if (body.attemptTimeoutMs !== undefined) options.attemptTimeoutMs = body.attemptTimeoutMs
  if (body.maxAttempts !== undefined) options.maxAttempts = body.maxAttempts
  if (body.maxQuantity !== undefined) options.maxQuantity = BigInt(body.maxQuantity)
  if (traceparent !== undefined) options.traceparent = traceparent
  return options
}

/** The `Idempotency-Key` header, which must agree with the body's key when both are given. */
function idempotencyKey(header: string | undefined, fromBody: string | undefined): string | undefined {
  if (header === undefined) return fromBody
  if (!IDEMPOTENCY_KEY.test(header))
    throw new RequestInvalidError('header', 'Idempotency-Key', 'must be 1-256 visible ASCII characters')
  if (fromBody !== undefined && fromBody !== header)
    throw new RequestInvalidError(
      'header',
      'Idempotency-Key',
      "differs from the body's idempotencyKey; send one",
    )
  return header
}

function callBody(name: string, r: CallResult) {
  return {
    output: r.output,
    name,
    version: r.version,
    provider: r.provider,
    invocationId: r.invocationId,
    lineage: r.lineage,
    // The charge's bigints as decimal text here, so the answer needs no replacer (see stringifyPlain).
    charge: { ...r.charge, amount: r.charge.amount.toString(), quantity: r.charge.quantity.toString() },
    attempts: r.attempts,
    replayed: r.replayed,
  }
}
