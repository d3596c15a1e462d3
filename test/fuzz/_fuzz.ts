import fc from 'fast-check'
import { expect } from 'vitest'
import { isMeshError, type MeshError } from '../../src/errors/base.js'

/**
 * The fuzz runs' settings: a fixed seed (printed, so a failure reruns exactly) and a modest number of
 * runs so the suite stays fast. Long runs: `FMESH_FUZZ_RUNS=10000 npx vitest run test/fuzz`; another
 * seed: `FMESH_FUZZ_SEED=123`. fast-check prints the seed and the shrunk counterexample on failure.
 */
export const FUZZ_SEED =
  process.env.FMESH_FUZZ_SEED === undefined ? 0x5eed_f00d : Number(process.env.FMESH_FUZZ_SEED)
const BASE_RUNS = process.env.FMESH_FUZZ_RUNS === undefined ? undefined : Number(process.env.FMESH_FUZZ_RUNS)

let printed = false
/** fast-check parameters for a property: `runs` by default, FMESH_FUZZ_RUNS when set. */
export function fuzzParams(runs: number): fc.Parameters<unknown> {
  if (!printed) {
    printed = true
    process.stdout.write(
      `fuzz seed ${FUZZ_SEED} (FMESH_FUZZ_SEED), runs ${BASE_RUNS ?? 'default'} (FMESH_FUZZ_RUNS)\n`,
    )
  }
  return { seed: FUZZ_SEED, numRuns: BASE_RUNS ?? runs, endOnFailure: true }
}

/** Runs `fn`; it must succeed or throw a MeshError whose code is one of `codes`. Returns the code. */
export function meshCodeOf(fn: () => unknown, codes: readonly string[]): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return checkCode(err, codes)
  }
}

/** `meshCodeOf` for async work. */
export async function meshCodeOfAsync(
  fn: () => Promise<unknown>,
  codes: readonly string[],
): Promise<string | undefined> {
  try {
    await fn()
    return undefined
  } catch (err) {
    return checkCode(err, codes)
  }
}

function checkCode(err: unknown, codes: readonly string[]): string {
  if (!isMeshError(err)) throw new Error(`expected a MeshError, got ${String((err as Error)?.stack ?? err)}`)
  const code = (err as MeshError).code
  expect(codes, `unexpected code ${code}: ${(err as MeshError).message}`).toContain(code)
  expect(typeof (err as MeshError).shortMessage).toBe('string')
  return code
}

/** Arbitrary bytes: random ones, UTF-8 of random text, of random JSON, and of strings with odd code points. */
export function hostileBytes(maxLength = 512): fc.Arbitrary<Uint8Array> {
  const enc = new TextEncoder()
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.string({ unit: 'binary', maxLength }).map((s) => enc.encode(s)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
    fc
      .constantFrom('[', '{"v":1', '{"__proto__":{"v":1}}', '\u0000', '"\\ud800"', '1e999', '[]'.repeat(2000))
      .map((s) => enc.encode(s)),
    fc.integer({ min: 1, max: 20_000 }).map((n) => enc.encode('['.repeat(n))),
  )
}
