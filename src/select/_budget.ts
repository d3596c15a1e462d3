import { CurrencyMismatchError, OverBudgetError, SelectOptionsInvalidError } from '../errors/select.js'
import type { Cost } from '../record/schema.js'
import { compareCost } from './_read.js'
import type { RateTable } from './RateTable.js'
import type { Candidate, RemovedCandidate } from './types.js'

/** Removes providers costing more than the call's budget. */
export function budgetPass(
  name: string,
  candidates: readonly Candidate[],
  maxCost: Cost,
  rates: RateTable | undefined,
): { candidates: readonly Candidate[]; removed: RemovedCandidate[] } {
  const budget = checkBudget(maxCost)
  const budgetRate = rates?.rate(maxCost.unit)
  const kept: Candidate[] = []
  const removed: RemovedCandidate[] = []
  for (const c of candidates) {
    let within: boolean
    if (c.cost === 0n || c.unit === undefined) within = true
    else if (c.unit === maxCost.unit) within = c.cost <= budget
    else {
      const rate = rates?.rate(c.unit)
      if (rate === undefined || budgetRate === undefined) {
        const missing = [c.unit, maxCost.unit].filter((u) => rates?.rate(u) === undefined)
        throw new CurrencyMismatchError([c.unit, maxCost.unit], missing, [
          `${c.provider.id}: ${c.cost} ${c.unit}`,
        ])
      }
      within = compareCost(c.cost, rate, budget, budgetRate) <= 0
    }
    if (within) kept.push(c)
    else
      removed.push({
        provider: c.provider,
        violations: [
          {
            rule: 'budget.maxCost',
            scope: 'budget',
            message: `costs ${c.cost} ${c.unit}, above maxCost ${maxCost.baseUnits} ${maxCost.unit}`,
          },
        ],
      })
  }
  if (kept.length === 0)
    throw new OverBudgetError(
      name,
      `${maxCost.baseUnits} ${maxCost.unit}`,
      candidates.map((c) => `${c.provider.id}: ${c.cost} ${c.unit}`),
    )
  return { candidates: removed.length === 0 ? candidates : kept, removed }
}

function checkBudget(maxCost: Cost): bigint {
  if (maxCost === null || typeof maxCost !== 'object')
    throw new SelectOptionsInvalidError('maxCost', 'must be { unit, baseUnits }')
  if (typeof maxCost.unit !== 'string' || !/^[A-Za-z0-9._-]{1,16}$/.test(maxCost.unit))
    throw new SelectOptionsInvalidError('maxCost.unit', 'must be a currency unit', maxCost.unit)
  if (typeof maxCost.baseUnits !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(maxCost.baseUnits))
    throw new SelectOptionsInvalidError(
      'maxCost.baseUnits',
      'must be a non-negative integer as a decimal string',
      maxCost.baseUnits,
    )
  return BigInt(maxCost.baseUnits)
}
