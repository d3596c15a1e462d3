import { AbortedError } from './errors/resolve.js'

/** Throws `AbortedError` if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(what, signal.reason)
}

/** Races a promise against a signal; the promise keeps running, its result is dropped on abort. */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(new AbortedError(what, signal.reason))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(what, signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
