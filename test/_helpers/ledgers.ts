import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { contentId } from '../../src/ledger/entry.js'
import { type Ledger, openLedger } from '../../src/ledger/Ledger.js'
import type { LedgerInit } from '../../src/ledger/types.js'

/**
 * Temporary directories and ledgers for one test file, all closed and removed after each test.
 * Call it at the top level of the file (it registers an `afterEach`).
 */
export function ledgerFixture(prefix: string) {
  const dirs: string[] = []
  const ledgers: Ledger[] = []
  afterEach(() => {
    for (const l of ledgers.splice(0)) l.closeNow()
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  const tmpDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(dir)
    return dir
  }
  return {
    tmpDir,
    /** A ledger path in a fresh directory, its parent not yet made. */
    tmpPath: (): string => join(tmpDir(), 'data', 'ledger.sqlite'),
    /** Opens a ledger the fixture closes after the test. */
    async open(path: string, extra: Omit<LedgerInit, 'path'> = {}): Promise<Ledger> {
      const ledger = await openLedger({ path, ...extra })
      ledgers.push(ledger)
      return ledger
    },
    /** Closes a ledger opened with `open` (so the fixture does not close it again). */
    async close(ledger: Ledger): Promise<void> {
      await ledger.close()
      ledgers.splice(ledgers.indexOf(ledger), 1)
    },
    /** Lets the fixture close a ledger opened elsewhere. */
    track(ledger: Ledger): Ledger {
      ledgers.push(ledger)
      return ledger
    },
  }
}

/** The fields every entry of a test call shares. */
export const baseEntry = (invocation: string, attempt = 1) => ({
  invocation,
  attempt,
  function: 'acme.com/text/upper',
  version: '1.0.0',
  provider: 'p1',
  principal: 'alice',
})

/**
 * One call in the ledger: FUNCTION_INVOKED, then FUNCTION_COMPLETED with a charge of `amount` USDC
 * (its sealed entry returned), or FUNCTION_FAILED.
 */
export async function oneCall(ledger: Ledger, n: number, outcome: 'ok' | 'fail' = 'ok', amount = 10n) {
  const inv = await ledger.invoked({
    ...baseEntry(`inv-${n}`),
    endpoint: 'local:acme.com/text/upper@1.0.0',
    recordId: 'local:acme.com/text/upper@1.0.0',
    reason: 'only provider',
    inputCid: contentId({ n }),
    idempotencyClass: 'idempotent',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  })
  if (outcome === 'fail')
    return ledger.failed(inv, {
      ...baseEntry(`inv-${n}`),
      error: { code: 'E_PROVIDER_FAILED', message: 'boom' },
      sent: true,
      durationMs: 1,
    })
  const { entry } = await ledger.completed(
    inv,
    { ...baseEntry(`inv-${n}`), outputCid: contentId({ out: n }), durationMs: 1, quantity: '1' },
    { currency: 'USDC', amount, quantity: 1n },
  )
  return entry
}
