/**
 * Polls `check` until it returns a value other than `undefined`/`false`, or throws after `timeoutMs`.
 * A bound on waiting for an observable condition, never a sleep standing in for synchronization.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}
