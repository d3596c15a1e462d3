import type { Descriptor, FunctionRecord, Provider } from '../record/schema.js'
import { RISK_TIERS, SECURITY_LEVELS } from '../record/schema.js'
import type { SecurityRule } from './rules.js'
import type { SecurityContext } from './SecurityContext.js'

/** One rule that removed a candidate, and why. */
export interface Violation {
  readonly rule: SecurityRule
  /**
   * What applied the rule: the mesh's context, the one passed to this call, or the record itself
   * (`record.trustedProviders` does not depend on any context).
   */
  readonly scope: 'mesh' | 'call' | 'record'
  readonly message: string
}

/** A context and the place it came from, for error messages. */
export interface ScopedContext {
  readonly context: SecurityContext
  readonly scope: 'mesh' | 'call'
}

/** A candidate the filter removed, with every rule it broke (first one first). */
export interface RemovedProvider {
  readonly provider: Provider
  readonly violations: readonly Violation[]
}

export interface FilterResult {
  /** Survivors, in the record's order. */
  readonly allowed: readonly Provider[]
  readonly removed: readonly RemovedProvider[]
}

/** What the filter looks at: one resolved version of one record. */
export interface FilterSubject {
  /** `namespace/path`, lowercase. */
  readonly name: string
  readonly record: FunctionRecord
  readonly descriptor: Descriptor
  readonly providers: readonly Provider[]
}

/**
 * Applies security contexts (one, or the mesh's then the call's: a candidate must pass all) and the
 * record's own requirements to a version's providers. Pure and O(providers x contexts + requirements);
 * the selector memoizes it per (resolution, context).
 *
 * Function-level rules (level, minSecurityLevel, the name allow list, maxRisk, permissions) remove
 * every candidate at once; provider-level rules (trustedProviders, allowedProviders) one at a time.
 *
 * @example
 * ```ts
 * const { allowed, removed } = filterProviders(securityContext({ level: 'full' }), resolved)
 * for (const r of removed) console.log(r.provider.id, r.violations[0]?.rule)
 * ```
 */
export function filterProviders(
  context: SecurityContext | readonly ScopedContext[],
  subject: FilterSubject,
): FilterResult {
  const contexts: readonly ScopedContext[] = Array.isArray(context)
    ? context
    : [{ context: context as SecurityContext, scope: 'call' }]
  const common: Violation[] = []
  for (const { context: c, scope } of contexts) common.push(...functionViolations(c, subject, scope))
  const trusted = subject.record.securityRequirements?.trustedProviders ?? []
  const trustedSet = trusted.length > 0 ? new Set(trusted) : undefined
  const allowed: Provider[] = []
  const removed: RemovedProvider[] = []
  for (const provider of subject.providers) {
    let violations: Violation[] | undefined = common.length > 0 ? [...common] : undefined
    if (trustedSet !== undefined && !trustedSet.has(provider.id)) {
      violations ??= []
      violations.push({
        rule: 'record.trustedProviders',
        scope: 'record',
        message: `${provider.id} is not among the record's trustedProviders ${trusted.join(', ')}`,
      })
    }
    const local = provider.endpoint.startsWith('local:')
    for (const { context: c, scope } of contexts) {
      if (c.level === 'pure' || c.allowsProvider(provider.id, local)) continue
      violations ??= []
      violations.push({
        rule: 'context.allowedProviders',
        scope,
        message: `${provider.id} is not in the ${scope} context's allowedProviders`,
      })
    }
    if (violations === undefined) allowed.push(provider)
    else removed.push({ provider, violations })
  }
  return { allowed, removed }
}

function functionViolations(
  context: SecurityContext,
  subject: FilterSubject,
  scope: 'mesh' | 'call',
): Violation[] {
  const out: Violation[] = []
  if (context.level === 'pure') {
    out.push({
      rule: 'context.level',
      scope,
      message: `the ${scope} context is pure: no mesh function may be called`,
    })
    return out
  }
  const requirements = subject.record.securityRequirements
  const minLevel = requirements?.minSecurityLevel
  // indexOf(undefined) is -1, below every rank: the undefined test only says why (an equivalent mutant).
  if (minLevel !== undefined && SECURITY_LEVELS.indexOf(minLevel) > context.levelRank) {
    out.push({
      rule: 'record.minSecurityLevel',
      scope,
      message: `the record demands level ${minLevel}, the ${scope} context is ${context.level}`,
    })
  }
  const { descriptor } = subject
  if (!context.allowsFunction(subject.name, descriptor.allowedByDefault === true)) {
    const why = descriptor.allowedByDefault
      ? ' (allowedByDefault is ignored: honorAllowedByDefault is false)'
      : ' and the descriptor is not allowedByDefault'
    out.push({
      rule: 'context.allowedFunctions',
      scope,
      message: `${subject.name} matches no entry of the ${scope} context's allowedFunctions or allowedFunctionPatterns${why}`,
    })
  }
  if (RISK_TIERS.indexOf(descriptor.maxRisk) > context.maxRiskRank) {
    out.push({
      rule: 'context.maxRisk',
      scope,
      message: `the descriptor's maxRisk is ${descriptor.maxRisk}, the ${scope} context allows up to ${context.maxRisk}`,
    })
  }
  const missingRecord = (requirements?.requiredPermissions ?? []).filter((p) => !context.holds(p))
  if (missingRecord.length > 0) {
    out.push({
      rule: 'record.requiredPermissions',
      scope,
      message: `the ${scope} context lacks ${missingRecord.join(', ')}`,
    })
  }
  const missingDescriptor = (descriptor.requiredPermissions ?? []).filter((p) => !context.holds(p))
  if (missingDescriptor.length > 0) {
    out.push({
      rule: 'descriptor.requiredPermissions',
      scope,
      message: `the ${scope} context lacks ${missingDescriptor.join(', ')}`,
    })
  }
  return out
}
