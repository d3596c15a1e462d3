import { StrategyInvalidError, StrategyUnknownError } from '../../errors/select.js'
import { STRATEGY_NAMES, type Strategy, type StrategySpec } from '../types.js'
import { fastest } from './fastest.js'
import { highestAvailability } from './highestAvailability.js'
import { loadBalance } from './loadBalance.js'
import { lowestCost } from './lowestCost.js'
import { weighted } from './weighted.js'

const BY_NAME: Readonly<Record<string, Strategy>> = Object.freeze({
  'lowest-cost': lowestCost(),
  fastest: fastest(),
  'highest-availability': highestAvailability(),
  'load-balance': loadBalance(),
  weighted: weighted(),
})

/**
 * Turns a strategy name or function into a strategy. An unknown name is a `StrategyUnknownError`,
 * anything else that is not a function a `StrategyInvalidError`.
 *
 * @example
 * ```ts
 * const strategy = resolveStrategy('load-balance') // the same function createMesh({ strategy }) uses
 * ```
 */
export function resolveStrategy(spec: StrategySpec): Strategy {
  if (typeof spec === 'function') return spec
  if (typeof spec === 'string') {
    if (!Object.hasOwn(BY_NAME, spec)) throw new StrategyUnknownError(spec, STRATEGY_NAMES)
    return BY_NAME[spec]!
  }
  throw new StrategyInvalidError(String(spec), 'must be a strategy name or a function')
}

/** A strategy's display name. */
export function strategyName(strategy: Strategy): string {
  return strategy.strategyName ?? (strategy.name !== '' ? strategy.name : 'custom')
}
