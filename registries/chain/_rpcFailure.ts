import { JsonRpcProvider, type Provider } from 'ethers'

const TRANSPORT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
])
const ETHERS_CODES = new Set(['NETWORK_ERROR', 'SERVER_ERROR', 'TIMEOUT', 'BAD_DATA'])

/** Whether `err` says the RPC endpoint failed (down, unreachable, garbage), not the chain refusing. */
export function isRpcFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (TRANSPORT_CODES.has(code) || ETHERS_CODES.has(code))) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** The URL a provider talks to, for error messages. */
export function rpcUrlOf(provider: Provider): string {
  return provider instanceof JsonRpcProvider ? provider._getConnection().url : 'the signer provider'
}

/** A short reason from an ethers or Node error. */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const short = (err as { shortMessage?: unknown }).shortMessage
  const code = (err as { code?: unknown }).code
  const text = typeof short === 'string' ? short : err.message
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text
}
