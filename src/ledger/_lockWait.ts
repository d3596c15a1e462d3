import { setTimeout as delay } from 'node:timers/promises'
import { isMeshError } from '../errors/base.js'
import type { LedgerInit } from './types.js'

/**
 * Runs `open` (which opens the ledger file), retrying every 100 ms for up to `init.waitForLockMs`
 * while another process holds the file (`E_LEDGER_LOCKED`), telling `init.onLockWait` once.
 */
export async function waitForLock<T>(init: LedgerInit, open: () => T): Promise<T> {
  const waitMs = init.waitForLockMs ?? 0
  const started = Date.now()
  let told = false
  for (;;) {
    try {
      return open()
    } catch (err) {
      const waited = Date.now() - started
      if (!isMeshError(err, 'E_LEDGER_LOCKED') || waited >= waitMs) throw err
      if (!told) init.onLockWait?.(init.path)
      told = true
      await delay(Math.min(100, waitMs - waited))
    }
  }
}
