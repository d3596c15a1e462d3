import type { Provider } from '../record/schema.js'
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
  private readonly rerank: ((rest: readonly Candidate[]) => Candidate) | undefined
  private order: readonly Provider[] | undefined

  constructor(
    resolved: ResolveResult,
    choice: StrategyChoice,
    candidates: readonly Candidate[],
    removed: readonly RemovedCandidate[],
    strategy: string,
    ejection: EjectionDecision | undefined,
    rerank?: (rest: readonly Candidate[]) => Candidate,
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
    this.rerank = rerank
  }

  ranked(): readonly Provider[] {
    if (this.order === undefined) {
      const order = [this.provider]
      let rest = this.candidates.filter((c) => c.provider !== this.provider)
      // With one left there is nothing to choose; with more, the strategy chooses again among them.
      while (rest.length > 1 && this.rerank !== undefined) {
        const next = this.rerank(rest)
        order.push(next.provider)
        rest = rest.filter((c) => c !== next)
      }
      for (const c of rest) order.push(c.provider)
      this.order = order
    }
    return this.order
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
