import { SelectOptionsInvalidError } from '../errors/select.js'

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence in [0, 1), so selection,
 * tests and simulations are reproducible. Not for cryptography.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ registries, trust, random: seededRandom(42) })
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new SelectOptionsInvalidError('seed', 'must be an integer', seed)
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
