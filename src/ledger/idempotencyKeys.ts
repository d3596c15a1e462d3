import type { Statements } from './_sql.js'

/** An idempotency key's stored state. */
export type KeyRecord =
  | {
      readonly state: 'pending'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
    }
  | {
      readonly state: 'completed'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
      /** The FUNCTION_COMPLETED entry. */
      readonly completed: string
      /** The stored output's canonical JSON. */
      readonly output: string
    }
  | {
      readonly state: 'failed'
      readonly function: string
      readonly inputCid: string
      readonly invocation: string
      readonly error: { readonly code: string; readonly message: string }
      /** Whether the request may have reached a provider. */
      readonly sent: boolean
    }

/** Claims an idempotency key for a call: the row is written with the first FUNCTION_INVOKED. */
export interface KeyClaim {
  readonly principal: string
  readonly key: string
  readonly function: string
  readonly inputCid: string
  readonly invocation: string
}

/** How a call that stopped without a result settles its key. */
export interface KeyFailure {
  readonly principal: string
  readonly key: string
  /** Nothing reached a provider: the key is freed for a new call. */
  readonly release: boolean
  readonly sent: boolean
}

const decoder = new TextDecoder()
const OUTPUT = ',"output":'

/** Writes a pending claim (inside the write transaction). */
export function writeClaim(st: Statements, claim: KeyClaim, at: number): void {
  st.claimKey.run(claim.principal, claim.key, claim.function, claim.inputCid, claim.invocation, at)
}

/** Stores a key's result with its FUNCTION_COMPLETED entry (inside the write transaction). */
export function writeKeyResult(
  st: Statements,
  key: { principal: string; key: string; output: Uint8Array },
  completed: string,
): void {
  const result = `{"completed":${JSON.stringify(completed)}${OUTPUT}${decoder.decode(key.output)}}`
  st.finishKey.run('completed', result, key.principal, key.key)
}

/** Frees a key or stores its failure (inside the write transaction). */
export function writeKeyFailure(
  st: Statements,
  key: KeyFailure,
  error: { code: string; message: string },
): void {
  if (key.release) st.deleteKey.run(key.principal, key.key)
  else
    st.finishKey.run(
      'failed',
      JSON.stringify({ code: error.code, message: error.message, sent: key.sent }),
      key.principal,
      key.key,
    )
}

/** A key's committed state. */
export function readKey(st: Statements, principal: string, key: string): KeyRecord | undefined {
  const row = st.getKey.get(principal, key) as
    | { function: string; input_cid: string; invocation: string; state: string; result: Buffer | null }
    | undefined
  if (row === undefined) return undefined
  const base = { function: row.function, inputCid: row.input_cid, invocation: row.invocation }
  if (row.state === 'completed') {
    const text = row.result!.toString('utf8')
    const at = text.indexOf(OUTPUT)
    const completed = (JSON.parse(`${text.slice(0, at)}}`) as { completed: string }).completed
    const output = text.slice(at + OUTPUT.length, -1)
    return { state: 'completed', ...base, completed, output }
  }
  if (row.state === 'failed') {
    const r = JSON.parse(row.result!.toString('utf8')) as { code: string; message: string; sent: boolean }
    return { state: 'failed', ...base, error: { code: r.code, message: r.message }, sent: r.sent }
  }
  return { state: 'pending', ...base }
}
