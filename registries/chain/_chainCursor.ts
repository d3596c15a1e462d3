import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { z } from 'zod'
import { ChainCursorError } from './errors.js'

const hash = z.string().regex(/^0x[0-9a-f]{64}$/)

const EffectSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anchor'), name: z.string(), ns: hash, seq: z.number().int().min(1) }),
  z.object({ kind: z.literal('mark'), name: z.string(), ns: hash }),
  z.object({ kind: z.literal('trust'), ns: hash, claimed: z.string().optional() }),
])

/** What one applied log did, kept for recent blocks so a reorg that removes it can be undone. */
export type Effect = z.infer<typeof EffectSchema>

const BlockSchema = z.object({
  number: z.number().int().min(0),
  hash,
  effects: z.array(EffectSchema),
})

/** A processed block the follower remembers: its hash (to see a reorg) and what its logs did. */
export type SeenBlock = z.infer<typeof BlockSchema>

const CursorSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int(),
  address: z.string(),
  lastBlock: z.number().int().min(-1),
  /** Anchored names: namespace hash and the highest anchored seq (0 for a name only marked). */
  names: z.record(z.string(), z.object({ ns: hash, seq: z.number().int().min(0) })),
  /** Claimed namespaces' text by hash. */
  namespaces: z.record(z.string(), z.string()),
  /** Recent processed blocks, oldest first; the last is `lastBlock`. */
  recent: z.array(BlockSchema),
})

/** Everything the event follower knows, as it is written to its cursor file. */
export type CursorState = z.infer<typeof CursorSchema>

/**
 * The event follower's state in a JSON file, so a restarted registry resumes after the last block it
 * processed (neither missing an event nor repeating one). Written atomically (a temporary file
 * renamed over the old one) after each sync that moved.
 */
export class CursorFile {
  constructor(readonly path: string) {}

  /** The saved state, or undefined when there is none (or it is for another chain or contract). */
  load(chainId: number, address: string): CursorState | undefined {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new ChainCursorError(this.path, 'cannot be read', err)
    }
    let parsed: CursorState
    try {
      parsed = CursorSchema.parse(JSON.parse(text))
    } catch (err) {
      throw new ChainCursorError(this.path, 'is corrupt', err)
    }
    if (parsed.chainId !== chainId || parsed.address.toLowerCase() !== address.toLowerCase()) return undefined
    return parsed
  }

  save(state: CursorState): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true })
      const tmp = `${this.path}.${process.pid}.tmp`
      writeFileSync(tmp, `${JSON.stringify(state)}\n`)
      renameSync(tmp, this.path)
    } catch (err) {
      throw new ChainCursorError(this.path, 'cannot be written', err)
    }
  }
}
