import { sealedFromRow } from './_sealEntry.js'
import type { Statements } from './_sql.js'
import type { InvokedEntry } from './entry.js'
import type { Ledger } from './Ledger.js'

/**
 * Closes every attempt a crash left without a terminal entry (FUNCTION_FAILED, `recovered`, never
 * charged), and fails every idempotency key it left pending.
 */
export async function recoverOpenAttempts(
  ledger: Ledger,
  st: Statements,
  enqueue: (write: () => void) => Promise<void>,
): Promise<void> {
  const open = st.openAttempts.all() as { id: string; seq: number; body: Buffer }[]
  const writes: Promise<unknown>[] = []
  for (const row of open) {
    const invoked = Object.assign(sealedFromRow(row.id, row.seq, row.body), { open: true })
    const e = invoked.entry as InvokedEntry
    writes.push(
      ledger.failed(invoked, {
        invocation: e.invocation,
        attempt: e.attempt,
        function: e.function,
        version: e.version,
        provider: e.provider,
        principal: e.principal,
        error: {
          code: 'E_INTERRUPTED',
          message: 'The ledger was closed (crash or kill) before this attempt finished; closed on reopen',
        },
        sent: true,
        durationMs: 0,
        recovered: true,
      }),
    )
  }
  writes.push(
    enqueue(() => {
      st.failPendingKeys.run(
        JSON.stringify({
          code: 'E_INTERRUPTED',
          message: 'The ledger was closed (crash or kill) before this call finished',
          sent: true,
        }),
      )
    }),
  )
  await Promise.all(writes)
}
