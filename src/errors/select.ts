import { MeshError } from './base.js'

/** `strategy` named no known strategy. */
export class StrategyUnknownError extends MeshError {
  override name = 'StrategyUnknownError'
  constructor(strategy: string, known: readonly string[]) {
    super('E_STRATEGY_UNKNOWN', `Unknown selection strategy ${JSON.stringify(strategy.slice(0, 80))}`, {
      details: { strategy: strategy.slice(0, 80), known },
      hint: `Use one of ${known.join(', ')}, or pass a function (input) => ({ candidate, reason }).`,
    })
  }
}

/** A strategy was not usable: not a function or name, or it returned something that is not a candidate. */
export class StrategyInvalidError extends MeshError {
  override name = 'StrategyInvalidError'
  constructor(strategy: string, rule: string, cause?: unknown) {
    super('E_STRATEGY_INVALID', `Selection strategy ${strategy} is invalid: ${rule}`, {
      details: { strategy, rule },
      hint: 'A strategy is (input) => ({ candidate, reason }) and must return one of input.candidates.',
      cause,
    })
  }
}

/** Options of a strategy, of the rate table or of select itself broke a rule. */
export class SelectOptionsInvalidError extends MeshError {
  override name = 'SelectOptionsInvalidError'
  constructor(field: string, rule: string, value?: unknown) {
    super('E_SELECT_OPTIONS_INVALID', `Invalid selection option ${field}: ${rule}`, {
      details: {
        field,
        rule,
        ...(value === undefined ? {} : { value: typeof value === 'bigint' ? String(value) : value }),
      },
      hint: 'Fix the option named above.',
    })
  }
}

/** Providers price in different currencies and no rate table relates them. */
export class CurrencyMismatchError extends MeshError {
  override name = 'CurrencyMismatchError'
  constructor(units: readonly string[], missing: readonly string[], providers: readonly string[]) {
    super('E_CURRENCY_MISMATCH', `Cannot compare costs in ${units.join(', ')} without exchange rates`, {
      details: { units, missingRates: missing, providers },
      hint:
        'Configure rates: createMesh({ rates: { reference: "USDC", rates: { EUR: "1.08" } } }) ' +
        '(reference base units per base unit of each currency), or choose a strategy that ignores cost.',
    })
  }
}

/** Stats handed to a strategy held a value no real provider can have (NaN, negative, ratio above 1). */
export class StatsInvalidError extends MeshError {
  override name = 'StatsInvalidError'
  constructor(provider: string, field: string, value: unknown) {
    super('E_STATS_INVALID', `Stats of provider ${provider} are invalid: ${field} is ${String(value)}`, {
      details: { provider, field, value: String(value) },
      hint: 'Latencies are finite milliseconds >= 0, in-flight counts integers >= 0, ratios within [0, 1].',
    })
  }
}

/** The injected random source returned a value outside [0, 1). */
export class RandomSourceInvalidError extends MeshError {
  override name = 'RandomSourceInvalidError'
  constructor(value: unknown) {
    super('E_RANDOM_INVALID', `The random source returned ${String(value)}, not a number in [0, 1)`, {
      details: { value: String(value) },
      hint: 'Inject random: () => number returning [0, 1), e.g. seededRandom(42) or Math.random.',
    })
  }
}

/** The resolved version lists no provider at all. */
export class NoProvidersError extends MeshError {
  override name = 'NoProvidersError'
  constructor(name: string, version: string) {
    super('E_NO_PROVIDERS', `${name}@${version} lists no providers`, {
      details: { name, version },
      hint: 'The publisher must add a provider to this version, or select another version.',
    })
  }
}

/** Every allowed provider costs more than the call's budget. */
export class OverBudgetError extends MeshError {
  override name = 'OverBudgetError'
  constructor(name: string, budget: string, cheapest: readonly string[]) {
    super('E_OVER_BUDGET', `Every allowed provider of ${name} costs more than the budget ${budget}`, {
      details: { name, budget, providers: cheapest },
      hint: 'Raise maxCost, or widen the security context to admit cheaper providers.',
    })
  }
}
