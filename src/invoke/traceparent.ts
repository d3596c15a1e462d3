import { CallOptionsError } from '../errors/invoke.js'
import { randomHex } from './_randomHex.js'

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The trace an invocation belongs to: the caller's, or a new one. */
export interface Trace {
  readonly traceId: string
  readonly flags: string
}

/** Parses a W3C `traceparent` (version 00), or starts a new sampled trace when none is given. */
export function traceOf(traceparent: string | undefined): Trace {
  if (traceparent === undefined) return { traceId: randomHex(16), flags: '01' }
  const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null
  if (m === null || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!))
    throw new CallOptionsError(
      'traceparent',
      'must be a W3C traceparent 00-<32 hex>-<16 hex>-<2 hex>, ids not all zero',
      traceparent,
    )
  return { traceId: m[1]!, flags: m[3]! }
}

/** A `traceparent` for one attempt: the trace's id with a new span id. */
export function childTraceparent(trace: Trace): string {
  return `00-${trace.traceId}-${randomHex(8)}-${trace.flags}`
}
