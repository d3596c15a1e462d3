import type { Signer } from '../trust/signer.js'
import type { Statements } from './_sql.js'
import { type Checkpoint, checkpointPayload } from './checkpoint.js'

/**
 * Signs and stores checkpoints of the log: one every `every` entries (started from `seal`, signed
 * off the write path) and on demand. Knows the latest stored checkpoint.
 */
export class Checkpointer {
  /** The newest checkpoint signed and stored. */
  latest: Checkpoint | undefined
  /** The tree size of the last checkpoint started. */
  lastSize = 0
  private running: Promise<Checkpoint> | undefined

  constructor(
    private readonly st: Statements,
    private readonly logId: string,
    private readonly signer: Signer,
    private readonly every: number,
    private readonly enqueue: (write: () => void) => Promise<void>,
  ) {
    const cp = st.lastCheckpoint.get() as
      | { tree_size: number; at: number; key_id: string; root: Buffer; signature: Buffer }
      | undefined
    if (cp !== undefined) {
      this.lastSize = cp.tree_size
      this.latest = {
        log: logId,
        treeSize: cp.tree_size,
        root: cp.root.toString('hex'),
        at: cp.at,
        keyId: cp.key_id,
        signature: cp.signature.toString('base64url'),
      }
    }
  }

  /** Whether a log of `size` entries is due for its periodic checkpoint. */
  due(size: number): boolean {
    return size - this.lastSize >= this.every && this.running === undefined
  }

  /** Signs the root (hex) of the first `treeSize` entries and stores it with the next batch. */
  make(treeSize: number, root: string, at: number): Promise<Checkpoint> {
    const signer = this.signer
    this.lastSize = treeSize
    const unsigned = { log: this.logId, treeSize, root, at, keyId: signer.id }
    const run = (async () => {
      const payload = checkpointPayload(unsigned)
      const signature = await signer.sign(payload)
      const checkpoint: Checkpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64url') }
      await this.enqueue(() => {
        this.st.insertCheckpoint.run(
          treeSize,
          Buffer.from(root, 'hex'),
          at,
          signer.id,
          Buffer.from(payload),
          Buffer.from(signature),
        )
      })
      if (this.latest === undefined || this.latest.treeSize < treeSize) this.latest = checkpoint
      return checkpoint
    })()
    this.running = run
    const clear = () => {
      if (this.running === run) this.running = undefined
    }
    run.then(clear, clear)
    return run
  }
}
