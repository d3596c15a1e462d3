import { SelectOptionsInvalidError } from '../errors/select.js'

/**
 * Exchange rates: how many base units of `reference` one base unit of each other currency is worth,
 * as decimal strings (`'1.08'`, `'0.000001'`). Kept as exact fractions of bigints, never floats.
 */
export interface RatesInit {
  reference: string
  rates: Readonly<Record<string, string>>
}

/** An exact rate: one base unit of the currency is `num / den` base units of the reference. */
export interface Rate {
  readonly num: bigint
  readonly den: bigint
}

const UNIT = /^[A-Za-z0-9._-]{1,16}$/
const DECIMAL = /^(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?$/
const ONE: Rate = Object.freeze({ num: 1n, den: 1n })

/** A checked rate table; see {@link rateTable}. */
export class RateTable {
  readonly reference: string
  private readonly rates: ReadonlyMap<string, Rate>

  private constructor(reference: string, rates: ReadonlyMap<string, Rate>) {
    this.reference = reference
    this.rates = rates
  }

  /** @internal */
  static build(init: RatesInit): RateTable {
    if (init === null || typeof init !== 'object')
      throw new SelectOptionsInvalidError('rates', 'must be an object')
    if (typeof init.reference !== 'string' || !UNIT.test(init.reference))
      throw new SelectOptionsInvalidError(
        'rates.reference',
        'must be a currency unit (1-16 of letters, digits, . _ -)',
        init.reference,
      )
    if (init.rates === null || typeof init.rates !== 'object')
      throw new SelectOptionsInvalidError('rates.rates', 'must be an object of unit -> decimal string')
    const map = new Map<string, Rate>([[init.reference, ONE]])
    for (const [unit, text] of Object.entries(init.rates)) {
      if (!UNIT.test(unit))
        throw new SelectOptionsInvalidError(`rates.rates.${unit}`, 'is not a currency unit')
      if (typeof text !== 'string' || !DECIMAL.test(text))
        throw new SelectOptionsInvalidError(
          `rates.rates.${unit}`,
          'must be a decimal string such as "1.08"',
          text,
        )
      const [whole, fraction = ''] = text.split('.') as [string, string?]
      const num = BigInt(whole + fraction)
      if (num === 0n) throw new SelectOptionsInvalidError(`rates.rates.${unit}`, 'must be above 0', text)
      const rate = { num, den: 10n ** BigInt(fraction.length) }
      if (unit === init.reference && rate.num !== rate.den)
        throw new SelectOptionsInvalidError(
          `rates.rates.${unit}`,
          'the reference currency is worth exactly 1',
          text,
        )
      map.set(unit, Object.freeze(rate))
    }
    return new RateTable(init.reference, map)
  }

  /** The rate of a unit, if known. */
  rate(unit: string): Rate | undefined {
    return this.rates.get(unit)
  }

  /** Units with a rate, the reference first. */
  get units(): readonly string[] {
    return [...this.rates.keys()]
  }
}

/**
 * Checks a rate table. Rates are exact: comparisons cross-multiply bigints.
 *
 * @example
 * ```ts
 * const rates = rateTable({ reference: 'USDC', rates: { EURC: '1.08' } })
 * const mesh = await createMesh({ registries, trust, strategy: 'lowest-cost', rates })
 * ```
 */
export function rateTable(init: RatesInit | RateTable): RateTable {
  return init instanceof RateTable ? init : RateTable.build(init)
}
