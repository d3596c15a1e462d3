import { z } from 'zod'

// The frames of `/fmesh/invoke/1.0.0`. Each message is length-prefixed (unsigned varint, `lpStream`).
// Request: a JSON header frame, then the input's canonical JSON bytes as a second frame.
// Response: a JSON header frame, then (on success only) the output's JSON bytes as a second frame.
// Bytes travel as their own frame so the input is never re-encoded (no base64, no JSON in JSON).

/** The invoke protocol id: one call per stream. */
export const INVOKE_PROTOCOL = '/fmesh/invoke/1.0.0'
/**
 * The keep-alive invoke protocol id: one long-lived stream carries many calls, each request and
 * response header naming its call by `id` (see `_invokeSession.ts`). Callers offer it first and fall
 * back to {@link INVOKE_PROTOCOL} with peers that do not speak it.
 */
export const INVOKE_SESSION_PROTOCOL = '/fmesh/invoke/1.1.0'
/** Versions of the header format this node speaks. */
export const INVOKE_VERSIONS: readonly number[] = [1]

const KEY = /^[\x21-\x7e]{1,255}$/
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

/** The request header. `timeoutMs` is the time left when it was sent: clocks of two nodes never agree. */
export const RequestHeaderSchema = z.strictObject({
  v: z.literal(1),
  /** `namespace/path@version`, an exact version. */
  fn: z.string().min(3).max(512),
  invocation: z.string().regex(KEY, 'must be 1-255 printable ASCII characters'),
  attempt: z.number().int().min(1).max(1000),
  idempotencyKey: z.string().regex(KEY, 'must be 1-255 printable ASCII characters').optional(),
  traceparent: z.string().regex(TRACEPARENT, 'must be a W3C traceparent'),
  /** The caller's principal, as the caller names it (the host qualifies it with the caller's peer id). */
  principal: z
    .string()
    .regex(/^[\x21-\x7e\u00a0-\uffff]{1,128}$/, 'must be 1-128 characters without whitespace'),
  timeoutMs: z.number().int().min(0).max(86_400_000).optional(),
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31),
  /** Length of the input frame that follows. */
  inputBytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31),
})
export type RequestHeader = z.infer<typeof RequestHeaderSchema>

const ErrorSchema = z.looseObject({
  code: z.string().regex(/^E_[A-Z0-9_]{1,64}$/, 'must be an E_ error code'),
  shortMessage: z.string().max(2000),
})

/** The response header. */
export const ResponseHeaderSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    v: z.literal(1),
    ok: z.literal(true),
    /** The host's invocation id (the original one when the host replayed an idempotent result). */
    invocation: z.string().regex(KEY, 'must be 1-255 printable ASCII characters'),
    quantity: z.string().regex(/^(0|[1-9][0-9]{0,30})$/, 'must be a non-negative integer'),
    replayed: z.boolean(),
    /** Length of the output frame that follows. */
    outputBytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31),
  }),
  z.strictObject({
    v: z.literal(1),
    ok: z.literal(false),
    invocation: z.string().regex(KEY, 'must be 1-255 printable ASCII characters').optional(),
    /** The host's MeshError, as `toJSON()` gives it (only code and shortMessage are relied on). */
    error: ErrorSchema,
    /** Whether the function may have run on the host. */
    ran: z.boolean(),
    /** Whether another attempt (here or elsewhere) could help. */
    retryable: z.boolean(),
  }),
])
export type ResponseHeader = z.infer<typeof ResponseHeaderSchema>

/** A call's id on a keep-alive stream: chosen by the caller, unique among its calls in flight there. */
const CallId = z
  .number()
  .int()
  .min(1)
  .max(2 ** 48)

/** A request header on a keep-alive stream: the 1.0.0 header with the call's id. */
export const SessionRequestSchema = RequestHeaderSchema.extend({ id: CallId })
export type SessionRequest = z.infer<typeof SessionRequestSchema>

/** Cancels a call in flight on a keep-alive stream (the caller gave up): the host aborts it. */
export const CancelSchema = z.strictObject({ v: z.literal(1), cancel: CallId })

/** A response header on a keep-alive stream: the 1.0.0 header with the id of the call it answers. */
export const SessionResponseSchema = z.discriminatedUnion('ok', [
  ResponseHeaderSchema.options[0].extend({ id: CallId }),
  ResponseHeaderSchema.options[1].extend({ id: CallId }),
])
export type SessionResponse = z.infer<typeof SessionResponseSchema>

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

/** Parses a frame as UTF-8 JSON; throws a `SyntaxError`/`TypeError` on anything else. */
export function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes))
}

/** The first issue of a zod failure as `[field, rule]`. */
export function firstIssue(error: z.ZodError): [string, string] {
  const issue = error.issues[0]
  if (issue === undefined) return ['(header)', 'is invalid']
  return [issue.path.length === 0 ? '(header)' : issue.path.join('.'), issue.message]
}
