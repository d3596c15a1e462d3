/**
 * Resolves in the check phase of this event-loop turn, the same promise for every caller of the turn.
 *
 * Why: the ledger commits every write queued before its flush microtask in one transaction. Calls
 * started from separate HTTP request callbacks each drain their microtasks alone, so each would
 * commit alone; held until the turn's I/O is read, the calls of one turn start together and share
 * their commits (group commit across requests), at the cost of less than one loop turn of latency.
 */
export function sameTurn(): Promise<void> {
  gate ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      gate = undefined
      resolve()
    }),
  )
  return gate
}

let gate: Promise<void> | undefined
