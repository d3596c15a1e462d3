import type { ResolveResult } from '../resolve/types.js'
import type { Candidate, EjectionDecision, RemovedCandidate, SelectResult, StrategyChoice } from './types.js'

/** The select result; the reason string is built on first read. */
export class Selection implements SelectResult {
  readonly provider
  readonly providerKey
  readonly name
  readonly version
  readonly record
  readonly descriptor
  readonly candidates
  readonly removed
  readonly strategy
  readonly ejection?: EjectionDecision
  private readonly why: string | (() => string)
  private text: string | undefined

  constructor(
    resolved: ResolveResult,
    choice: StrategyChoice,
    candidates: readonly Candidate[],
    removed: readonly RemovedCandidate[],
    strategy: string,
    ejection: EjectionDecision | undefined,
  ) {
    this.provider = choice.candidate.provider
    this.providerKey = choice.candidate.key
    this.name = resolved.name
    this.version = resolved.version
    this.record = resolved.record
    this.descriptor = resolved.descriptor
    this.candidates = candidates
    this.removed = removed
    this.strategy = strategy
    if (ejection !== undefined) this.ejection = ejection
    this.why = choice.reason
  }

  get reason(): string {
    if (this.text === undefined) {
      let text = typeof this.why === 'string' ? this.why : String(this.why())
      const e = this.ejection
      if (e !== undefined) {
        text += `; ejection capped: circuits open on ${[...e.ejected, ...e.kept].join(', ')}, but at most ${e.limit} of ${e.allowed} providers may be ejected (maxEjectionShare), so ${e.kept.join(', ')} stayed in`
      }
      this.text = text
    }
    return this.text
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      version: this.version,
      provider: this.provider,
      providerKey: this.providerKey,
      strategy: this.strategy,
      reason: this.reason,
      candidates: this.candidates.map((c) => c.provider.id),
      removed: this.removed.map((r) => ({ provider: r.provider.id, violations: r.violations })),
      ...(this.ejection === undefined ? {} : { ejection: this.ejection }),
    }
  }
}
