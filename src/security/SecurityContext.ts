import picomatch from 'picomatch'
import { z } from 'zod'
import { isMeshError } from '../errors/base.js'
import { SecurityContextInvalidError } from '../errors/security.js'
import { normalizeRecordName } from '../name.js'
import { RISK_TIERS, type RiskTier, SECURITY_LEVELS, type SecurityLevel } from '../record/schema.js'
import { compileNamePattern } from '../registry/namePattern.js'
import { compileGrants, type GrantMatcher } from './_grants.js'

/** Most entries in one allow list. @default 1024 */
export const MAX_ALLOW_LIST = 1024

/**
 * What a caller may reach, after the seed's `SecurityContext`. Every field but `level` is optional.
 *
 * - `pure`: no mesh function at all. Takes no other field.
 * - `controlled`: only functions named in `allowedFunctions`, matching `allowedFunctionPatterns`, or
 *   (unless `honorAllowedByDefault: false`) whose descriptor says `allowedByDefault`; only providers
 *   in `allowedProviders` (local in-process providers too unless `allowLocal: false`); only risk up to
 *   `maxRisk` (default `read-only`); only permissions in `grantedPermissions` (default none).
 * - `full`: no allow lists (giving one is an error); `maxRisk` defaults to `irreversible` and
 *   `grantedPermissions` to `['*']`, both still checked when given.
 *
 * Whatever the level, the record's own requirements apply: `minSecurityLevel`, `requiredPermissions`
 * (record and descriptor) and `trustedProviders`.
 */
export type SecurityContextInit =
  | { level: 'pure'; id?: string }
  | {
      level: 'controlled'
      id?: string
      /** Exact function names (`namespace/path`, no version), case-insensitive. */
      allowedFunctions?: readonly string[]
      /** Globs over function names: `*` within a segment, `**` across segments. */
      allowedFunctionPatterns?: readonly string[]
      /** Provider ids or globs over them (`acme-*`). @default [] (no remote provider) */
      allowedProviders?: readonly string[]
      /** Permissions held: exact (`image.read`), a prefix (`image.*`) or everything (`*`). @default [] */
      grantedPermissions?: readonly string[]
      /** Highest descriptor risk tier allowed. @default 'read-only' */
      maxRisk?: RiskTier
      /** Whether a descriptor's `allowedByDefault: true` stands in for an allow-list entry. @default true */
      honorAllowedByDefault?: boolean
      /** Whether in-process marketplace providers (`local:` endpoints) pass the provider rule. @default true */
      allowLocal?: boolean
    }
  | { level: 'full'; id?: string; grantedPermissions?: readonly string[]; maxRisk?: RiskTier }

const idField = z.string().min(1).max(128).optional()
const list = (item: z.ZodType<string>) =>
  z.array(item).max(MAX_ALLOW_LIST, `at most ${MAX_ALLOW_LIST} entries`)
const permissionGrant = z
  .string()
  .regex(
    /^(\*|[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}(\.\*)?)$/,
    'a permission (letters, digits, . _ : / -), a prefix ending in .*, or *',
  )
const providerPattern = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'at most 128 characters')
  .regex(/^[A-Za-z0-9._:/*?{},[\]-]+$/, 'a provider id or a glob over ids')
const riskTier = z.enum(RISK_TIERS, { error: `one of ${RISK_TIERS.join(', ')}` })

const Schemas = {
  pure: z.strictObject({ level: z.literal('pure'), id: idField }),
  controlled: z.strictObject({
    level: z.literal('controlled'),
    id: idField,
    allowedFunctions: list(z.string().max(512)).optional(),
    allowedFunctionPatterns: list(z.string().max(512)).optional(),
    allowedProviders: list(providerPattern).optional(),
    grantedPermissions: list(permissionGrant).optional(),
    maxRisk: riskTier.optional(),
    honorAllowedByDefault: z.boolean().optional(),
    allowLocal: z.boolean().optional(),
  }),
  full: z.strictObject({
    level: z.literal('full'),
    id: idField,
    grantedPermissions: list(permissionGrant).optional(),
    maxRisk: riskTier.optional(),
  }),
} as const

const CONTROLLED_ONLY = [
  'allowedFunctions',
  'allowedFunctionPatterns',
  'allowedProviders',
  'honorAllowedByDefault',
  'allowLocal',
]

/**
 * A checked, compiled security context. Build one with {@link securityContext} and reuse it: the mesh
 * memoizes filtering per context object, so a context built once makes warm `select` cheap.
 */
export class SecurityContext {
  readonly level: SecurityLevel
  /** Index of `level` in `SECURITY_LEVELS`. */
  readonly levelRank: number
  readonly id: string | undefined
  /** Highest allowed risk tier, and its index in `RISK_TIERS`. */
  readonly maxRisk: RiskTier
  readonly maxRiskRank: number
  readonly honorAllowedByDefault: boolean
  readonly allowLocal: boolean
  /** The input, normalized (names lowercased), for display and `toJSON`. */
  readonly init: Readonly<SecurityContextInit>
  private readonly functions: ReadonlySet<string>
  private readonly functionPatterns: readonly ((name: string) => boolean)[]
  private readonly providerIds: ReadonlySet<string>
  private readonly providerPatterns: readonly ((id: string) => boolean)[]
  private readonly grants: GrantMatcher

  /** Use {@link securityContext}; the constructor trusts its (already checked) input. */
  private constructor(init: SecurityContextInit) {
    this.init = Object.freeze(init)
    this.level = init.level
    this.levelRank = SECURITY_LEVELS.indexOf(init.level)
    this.id = init.id
    const controlled = init.level === 'controlled' ? init : undefined
    const maxRisk =
      init.level === 'pure' ? 'read-only' : (init.maxRisk ?? (controlled ? 'read-only' : 'irreversible'))
    this.maxRisk = maxRisk
    this.maxRiskRank = RISK_TIERS.indexOf(maxRisk)
    this.honorAllowedByDefault = controlled?.honorAllowedByDefault ?? true
    this.allowLocal = controlled?.allowLocal ?? true
    // A default list (here and the grants below) holding a stray entry would match nothing (an
    // equivalent mutant): names are normalized, provider ids and permissions are tokens, none holds a space.
    this.functions = new Set(controlled?.allowedFunctions ?? [])
    this.functionPatterns = (controlled?.allowedFunctionPatterns ?? []).map((p) => compileNamePattern(p))
    const providers = controlled?.allowedProviders ?? []
    // Exact ids and globs are split for speed only: a glob in the exact set matches no id (ids hold no
    // glob character) and an exact id compiled as a glob matches only itself (equivalent mutants).
    this.providerIds = new Set(providers.filter((p) => !/[*?{}[\]]/.test(p)))
    this.providerPatterns = providers
      .filter((p) => /[*?{}[\]]/.test(p))
      .map((p) => picomatch(p, { dot: true, strictSlashes: true }))
    const grants = init.level === 'pure' ? [] : (init.grantedPermissions ?? (controlled ? [] : ['*']))
    this.grants = compileGrants(grants)
  }

  /** Checks and compiles an init; see {@link securityContext}. */
  static from(init: SecurityContextInit | SecurityContext): SecurityContext {
    if (init instanceof SecurityContext) return init
    return new SecurityContext(checkInit(init))
  }

  /**
   * Whether the context's name rule admits a function. Only `controlled` has one: `full` admits every
   * name and `pure` none (its level rule removes everything first).
   */
  allowsFunction(name: string, allowedByDefault: boolean): boolean {
    if (this.level !== 'controlled') return this.level === 'full'
    if (this.functions.has(name)) return true
    for (const match of this.functionPatterns) if (match(name)) return true
    return allowedByDefault && this.honorAllowedByDefault
  }

  /** Whether the context's provider rule admits a provider (`full`: always; `pure`: never). */
  allowsProvider(id: string, local: boolean): boolean {
    if (this.level !== 'controlled') return this.level === 'full'
    if (local && this.allowLocal) return true
    if (this.providerIds.has(id)) return true
    for (const match of this.providerPatterns) if (match(id)) return true
    return false
  }

  /** Whether the context holds a permission (exactly, through a `prefix.*` grant, or `*`). */
  holds(permission: string): boolean {
    return this.grants(permission)
  }

  toJSON(): Readonly<SecurityContextInit> {
    return this.init
  }
}

/**
 * Checks a context (zod at this trust boundary) and compiles its allow lists and globs. Bad input is
 * a {@link SecurityContextInvalidError} naming the field and the rule.
 *
 * @example
 * ```ts
 * const ctx = securityContext({
 *   level: 'controlled',
 *   allowedFunctionPatterns: ['acme.com/image/*'],
 *   allowedProviders: ['provider-123'],
 *   grantedPermissions: ['image.read'],
 * })
 * const { provider } = await mesh.select('acme.com/image/sharpen@^1.2', ctx)
 * ```
 */
export function securityContext(init: SecurityContextInit): SecurityContext {
  return SecurityContext.from(init)
}

function checkInit(input: unknown): SecurityContextInit {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SecurityContextInvalidError('', 'a security context must be an object', input)
  }
  const level = (input as { level?: unknown }).level
  // includes() refuses a non-string too: the typeof test only narrows the type (an equivalent mutant).
  if (typeof level !== 'string' || !(SECURITY_LEVELS as readonly string[]).includes(level)) {
    throw new SecurityContextInvalidError('level', `must be one of ${SECURITY_LEVELS.join(', ')}`, level)
  }
  const typedLevel = level as SecurityLevel
  if (typedLevel !== 'controlled') {
    for (const field of CONTROLLED_ONLY) {
      if ((input as Record<string, unknown>)[field] !== undefined) {
        throw new SecurityContextInvalidError(
          field,
          `applies only at level controlled (level ${typedLevel} ${typedLevel === 'full' ? 'has no allow lists' : 'allows nothing'})`,
        )
      }
    }
  }
  const parsed = Schemas[typedLevel].safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.')
    const rule =
      issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message
    let value: unknown = input
    // zod reports a missing part at its parent's path, so every step but the last exists (`?.` is an
    // equivalent mutant there).
    for (const p of issue.path)
      value = (value as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey]
    throw new SecurityContextInvalidError(field.replaceAll('.[', '['), rule, value)
  }
  const data = parsed.data as SecurityContextInit
  // Only controlled has names and globs to check; past here another level would come back as a copy.
  if (data.level !== 'controlled') return data
  const functions = (data.allowedFunctions ?? []).map((name, i) => {
    try {
      return normalizeRecordName(name)
    } catch (err) {
      throw new SecurityContextInvalidError(
        `allowedFunctions[${i}]`,
        'must be a function name (namespace/path, no @version)',
        name,
        err,
      )
    }
  })
  ;(data.allowedFunctionPatterns ?? []).forEach((pattern, i) => {
    try {
      compileNamePattern(pattern)
    } catch (err) {
      // compileNamePattern throws MeshErrors only; a bug of its own would surface as it is.
      if (!isMeshError(err)) throw err
      throw new SecurityContextInvalidError(`allowedFunctionPatterns[${i}]`, err.shortMessage, pattern, err)
    }
  })
  const out: SecurityContextInit = { ...data }
  if (data.allowedFunctions !== undefined) out.allowedFunctions = functions
  return out
}
