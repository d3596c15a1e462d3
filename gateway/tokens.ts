import * as crypto from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'
import type { SecurityContext, SecurityContextInit } from '../src/security/SecurityContext.js'

/**
 * What a token may do on the gateway's mutating routes. `admin` (publish, and calls as another
 * principal or lease) is what `fmesh node start` gives the CLI on its own data dir; a token has it
 * only when its `scopes` name it.
 */
export type TokenScope = 'call' | 'dispatch' | 'admin'

/** The scopes a token without `scopes` has. */
export const TOKEN_SCOPES: readonly TokenScope[] = Object.freeze(['call', 'dispatch'])

/** Every scope a token may list. */
export const ALL_TOKEN_SCOPES: readonly TokenScope[] = Object.freeze(['call', 'dispatch', 'admin'])

/**
 * One bearer token the gateway accepts. Give `tokenHash` (from {@link hashToken} or `fmesh gateway
 * token`) so the secret is never stored; `token` (the secret itself) is accepted for tests and is
 * hashed at start, the plain text dropped.
 */
export interface GatewayToken {
  /** `sha256:<64 hex>`, the hash of the secret. */
  tokenHash?: string
  /** The secret itself (at least 16 characters); prefer `tokenHash`. */
  token?: string
  /** Who calls with this token: idempotency keys, usage and lineage are kept per principal. */
  principal: string
  /** The security context its calls run under. @default the mesh's */
  context?: SecurityContext | SecurityContextInit
  /** A lease id: its calls must be among the lease's capabilities and are paid from its budget. */
  lease?: string
  /** @default TOKEN_SCOPES (call and dispatch; `admin` only when listed) */
  scopes?: readonly TokenScope[]
}

/**
 * The hash the gateway stores for a token: `sha256:` and the hex SHA-256 of its UTF-8 bytes. Tokens
 * are 256 random bits, so a fast hash is enough (there is nothing to guess from a dictionary).
 *
 * @example
 * ```ts
 * const { token, tokenHash } = generateToken()
 * hashToken(token) === tokenHash // true
 * ```
 */
export function hashToken(token: string): string {
  return `sha256:${oneShot === undefined ? createHash('sha256').update(token, 'utf8').digest('hex') : oneShot('sha256', token, 'hex')}`
}

/**
 * Node's one-shot `crypto.hash` (20.12 and later): the same digest without a Hash object, a third
 * of the time of `createHash` per request (every authenticated request hashes its token).
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash

/**
 * A new random token (`fmt_` and 43 base64url characters) and its hash: give the token to the
 * client, configure the gateway with the hash.
 *
 * @example
 * ```ts
 * const { token, tokenHash } = generateToken()
 * httpGateway({ tokens: [{ tokenHash, principal: 'billing-service' }] })
 * ```
 */
export function generateToken(): { token: string; tokenHash: string } {
  const token = `fmt_${randomBytes(32).toString('base64url')}`
  return { token, tokenHash: hashToken(token) }
}
