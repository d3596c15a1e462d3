import { MeshError } from '../errors/base.js'
import type { Output } from './_output.js'

/** One select or call the demo made, as printed and as returned with --json. */
export interface DemoAction {
  what: string
  ok: boolean
  provider?: string
  reason?: string
  output?: unknown
  detail?: string
  /** A call's charge in base units (`"0"` when free or replayed) and its currency. */
  charge?: { amount: string; currency: string | null }
  attempts?: number
  /** How the call reached its provider: `local`, `http`, `mcp` or `libp2p` (from the endpoint). */
  transport?: string
  invocation?: string
  error?: { code: string; message: string }
}

/** The transport an endpoint names: `local`, `http`, `mcp` or `libp2p`. */
export function transportOf(endpoint: string): string {
  if (endpoint.startsWith('mcp+')) return 'mcp'
  if (endpoint.startsWith('libp2p:')) return 'libp2p'
  if (endpoint.startsWith('http://') || endpoint.startsWith('https://')) return 'http'
  return endpoint.split(':')[0] ?? endpoint
}

/** Runs one step; a MeshError becomes a refused action (its code and short message), others throw. */
export async function attempt(
  what: string,
  run: () => Promise<Omit<DemoAction, 'what' | 'ok'>>,
): Promise<DemoAction> {
  try {
    return { what, ok: true, ...(await run()) }
  } catch (err) {
    if (!(err instanceof MeshError)) throw err
    return { what, ok: false, error: { code: err.code, message: err.shortMessage } }
  }
}

/** Prints an action: what was asked, the provider (and output) or the refusal, then why. */
export function printAction(out: Output, a: DemoAction): void {
  const head = `${a.what.padEnd(46)}`
  if (!a.ok) {
    out.line(`${head} -> ${a.error!.code}: ${a.error!.message}`)
    return
  }
  const output = a.output === undefined ? '' : ` ${JSON.stringify(a.output)}`
  out.line(`${head} -> ${a.provider}${output}`)
  const note = a.reason ?? a.detail
  if (note) out.line(`${''.padEnd(50)}${note}`)
}
