import { raceSignal } from '../abort.js'

interface Flight<T> {
  promise: Promise<T>
  controller: AbortController
  waiters: number
}

/**
 * One in-flight lookup per key: concurrent callers share it. Each caller may abort its own wait;
 * the shared work is aborted only when every caller has gone.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>()

  run(
    key: string,
    work: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<T> {
    let flight = this.flights.get(key)
    if (flight === undefined) {
      const controller = new AbortController()
      const created: Flight<T> = { promise: undefined as never, controller, waiters: 0 }
      created.promise = work(controller.signal).finally(() => {
        if (this.flights.get(key) === created) this.flights.delete(key)
      })
      // The shared promise may be abandoned by every caller; its rejection is theirs, not unhandled.
      created.promise.catch(() => undefined)
      this.flights.set(key, created)
      flight = created
    }
    const current = flight
    current.waiters++
    const leave = () => {
      current.waiters--
      if (current.waiters === 0 && signal?.aborted) {
        if (this.flights.get(key) === current) this.flights.delete(key)
        current.controller.abort(signal.reason)
      }
    }
    return raceSignal(current.promise, signal, what).finally(leave)
  }

  /** Keys with a lookup under way. */
  get size(): number {
    return this.flights.size
  }
}
