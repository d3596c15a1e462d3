import { z } from 'zod'
import { isMeshError } from '../src/errors/base.js'
import { ConfigError } from '../src/errors/registry.js'
import { type SecurityContext, securityContext } from '../src/security/SecurityContext.js'
import { ForbiddenError, UnauthorizedError } from './errors.js'
import { ALL_TOKEN_SCOPES, type GatewayToken, hashToken, TOKEN_SCOPES, type TokenScope } from './tokens.js'

/** A configured token, checked: what a request holding it runs as. */
export interface Principal {
  readonly principal: string
  readonly context: SecurityContext | undefined
  readonly lease: string | undefined
  readonly scopes: ReadonlySet<TokenScope>
}

const HASH = /^sha256:[0-9a-f]{64}$/
const TokenSchema = z.strictObject({
  tokenHash: z.string().regex(HASH, 'must be sha256:<64 lowercase hex> (see hashToken)').optional(),
  token: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  principal: z.string().min(1).max(128),
  context: z.unknown().optional(),
  lease: z.string().min(1).max(256).optional(),
  scopes: z.array(z.enum(ALL_TOKEN_SCOPES as [TokenScope, ...TokenScope[]])).optional(),
})

/** The gateway's tokens by hash; the secrets themselves are never kept. */
export class TokenBook {
  private readonly byHash = new Map<string, Principal>()

  constructor(tokens: readonly GatewayToken[] | undefined) {
    if (tokens === undefined) return
    if (!Array.isArray(tokens))
      throw new ConfigError('gateway.tokens', 'must be an array of { tokenHash, principal }')
    for (const [i, raw] of tokens.entries()) {
      const at = `gateway.tokens[${i}]`
      const parsed = TokenSchema.safeParse(raw)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!
        throw new ConfigError(`${at}${issue.path.length ? `.${issue.path.join('.')}` : ''}`, issue.message)
      }
      const t = parsed.data
      if ((t.tokenHash === undefined) === (t.token === undefined))
        throw new ConfigError(at, 'give exactly one of tokenHash (preferred) and token')
      const hash = t.tokenHash ?? hashToken(t.token!)
      if (this.byHash.has(hash)) throw new ConfigError(at, 'the same token is configured twice')
      this.byHash.set(hash, {
        principal: t.principal,
        context: contextOf(raw.context, `${at}.context`),
        lease: t.lease,
        scopes: new Set(t.scopes ?? TOKEN_SCOPES),
      })
    }
  }

  get size(): number {
    return this.byHash.size
  }

  /** The principal of an `Authorization` header, or `undefined` when there is none. Throws on a bad one. */
  identify(header: string | undefined): Principal | undefined {
    if (header === undefined || header === '') return undefined
    const match = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim())
    if (match === null) throw new UnauthorizedError('malformed')
    const found = this.byHash.get(hashToken(match[1]!))
    if (found === undefined) throw new UnauthorizedError('unknown')
    return found
  }

  /** The principal allowed `scope`, or the error saying why not. */
  require(header: string | undefined, scope: TokenScope): Principal {
    if (this.byHash.size === 0) throw new UnauthorizedError('none-configured')
    const found = this.identify(header)
    if (found === undefined) throw new UnauthorizedError('missing')
    if (!found.scopes.has(scope)) throw new ForbiddenError(found.principal, scope)
    return found
  }
}

function contextOf(value: unknown, at: string): SecurityContext | undefined {
  if (value === undefined) return undefined
  try {
    return securityContext(value as never)
  } catch (err) {
    if (isMeshError(err)) throw new ConfigError(`${at}.${String(err.details.field ?? '')}`, err.shortMessage)
    throw err
  }
}
