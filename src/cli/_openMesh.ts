import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { LedgerMissingError } from '../errors/ledger.js'
import type { Mesh } from '../mesh.js'
import { findConfig, type LoadedConfig, loadConfig } from '../preset/config.js'
import { createPresetMesh } from '../preset/createPresetMesh.js'
import type { OnSyncProgress } from '../registry/syncProgress.js'
import type { Transport } from '../transport/types.js'
import type { Signer } from '../trust/signer.js'
import { syncProgress } from './_progress.js'

/** How long a command waits for a ledger another process holds. @default 30000 */
export const LEDGER_LOCK_WAIT_MS = 30_000

/**
 * A mesh opened from the config (`--config`, `$FMESH_CONFIG`, `./fmesh.json`, the user's config
 * dir, else the embedded defaults) for one CLI command: registries sync on demand. A `readOnly`
 * command refuses a registry whose local store does not exist instead of creating it empty.
 */
export async function openMesh(
  configPath: string | undefined,
  options: {
    signer?: Signer
    readOnly?: boolean
    ledgerOnly?: boolean
    /** The command only reads the ledger: open it read-only, beside any writer, without waiting. */
    ledgerReadOnly?: boolean
    createLedger?: boolean
    transports?: readonly Transport[]
    /** Where the registries' sync progress goes. @default a progress line of its own per sync */
    onSyncProgress?: OnSyncProgress
  } = {},
): Promise<{ mesh: Mesh; config: LoadedConfig; describe: string[] }> {
  const loaded = await loadConfig(await findConfig(configPath))
  // `lineage` and `usage` read the ledger only: no registry is built (or loaded), and a ledger that
  // does not exist is not created by a read.
  if (
    options.ledgerOnly === true &&
    options.createLedger !== true &&
    !existsSync(join(loaded.dataDir, 'ledger.sqlite'))
  )
    throw new LedgerMissingError(join(loaded.dataDir, 'ledger.sqlite'))
  const config = options.ledgerOnly === true ? { ...loaded, registries: [] } : loaded
  const opened = await createPresetMesh(config, {
    oneShot: true,
    // A clone or fetch that takes over a second draws a bar on a terminal (never with --json).
    onSyncProgress: options.onSyncProgress ?? syncProgress({ json: process.argv.includes('--json') }),
    ...(options.readOnly === true ? { readOnly: true } : {}),
    ...(options.signer ? { signer: options.signer } : {}),
    ...(options.transports ? { transports: options.transports } : {}),
    // A reader reads the committed entries beside any writer, at once. One writer per ledger file:
    // a writing command queues behind another one (or a node) on the same data dir for up to
    // LEDGER_LOCK_WAIT_MS instead of failing at once.
    ledger:
      options.ledgerReadOnly === true
        ? { readOnly: true }
        : {
            waitForLockMs: LEDGER_LOCK_WAIT_MS,
            onLockWait: (path) => {
              // Not with --json, whose stderr is one JSON document.
              if (!process.argv.includes('--json'))
                process.stderr.write(
                  `waiting for the ledger ${path}: another fmesh command or node is using it\n`,
                )
            },
          },
  })
  return { ...opened, config }
}
