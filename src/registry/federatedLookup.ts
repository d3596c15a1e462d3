import { raceSignal } from '../abort.js'
import { type Clock, scheduleOn, systemClock } from '../clock.js'
import { isMeshError } from '../errors/base.js'
import { AbortedError, type RegistryOutcome } from '../errors/resolve.js'
import { SeqRollbackError } from '../errors/trust.js'
import { logger } from '../logger.js'
import type { ResolveProgressEvent } from '../resolve/types.js'
import type { RecordVerifier, VerifiedRecord } from '../trust/RecordVerifier.js'
import type { SeqLedger } from '../trust/SeqLedger.js'
import type { Registry, VersionMark } from './types.js'

const log = logger('federation')

/** Deadline for one registry's answer to one lookup. @default 5000 */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000

export interface FederatedLookupOptions {
  verifier: RecordVerifier
  seqLedger?: SeqLedger
  /** @default DEFAULT_LOOKUP_TIMEOUT_MS */
  timeoutMs?: number
  /** The clock `timeoutMs` runs on. @default systemClock */
  clock?: Clock
  signal?: AbortSignal
  /** Count expired records as valid (for picking the next seq, never for resolving). */
  allowExpired?: boolean
  onProgress?: (event: ResolveProgressEvent) => void
}

export interface FederatedAnswer {
  /** The winning record, if any registry had a valid one. */
  readonly best?: {
    readonly verified: VerifiedRecord
    readonly registry: string
    readonly location?: string
    /** Every registry's version marks for the name, merged (a flag set by any one is set). */
    readonly marks?: Readonly<Record<string, VersionMark>>
  }
  /** One outcome per registry, in priority order. */
  readonly report: readonly RegistryOutcome[]
  /** The refusal or failure behind each `invalid`, `error` or `timeout` outcome, aligned with `report`. */
  readonly failures: readonly unknown[]
}

interface Candidate {
  verified: VerifiedRecord
  index: number
  location?: string
}

/**
 * Asks every registry at once, each under its own deadline, verifies each answer, and settles
 * conflicts deterministically: a valid signature first, then the highest seq, then registry
 * priority (earlier in the list wins). A registry that throws or times out is reported, not fatal.
 */
export async function federatedLookup(
  registries: readonly Registry[],
  name: string,
  options: FederatedLookupOptions,
): Promise<FederatedAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS
  const outcomes = await Promise.all(
    registries.map((registry, index) => askOne(registry, index, name, timeoutMs, options)),
  )
  if (options.signal?.aborted) throw new AbortedError(`lookup of ${name}`, options.signal.reason)
  let best: Candidate | undefined
  for (const { candidate } of outcomes) {
    if (candidate === undefined) continue
    if (best === undefined || candidate.verified.record.seq > best.verified.record.seq) best = candidate
  }
  const report = outcomes.map((o) => o.outcome)
  const failures = outcomes.map((o) => o.failure)
  if (best === undefined) return { report, failures }
  const marks = mergeMarks(outcomes.map((o) => o.marks))
  options.seqLedger?.accept(name, best.verified.record.seq)
  const registry = registries[best.index]!.id
  return {
    best: {
      verified: best.verified,
      registry,
      ...(best.location === undefined ? {} : { location: best.location }),
      ...(marks === undefined ? {} : { marks }),
    },
    report,
    failures,
  }
}

async function askOne(
  registry: Registry,
  index: number,
  name: string,
  timeoutMs: number,
  options: FederatedLookupOptions,
): Promise<{
  outcome: RegistryOutcome
  candidate?: Candidate
  failure?: unknown
  marks?: Readonly<Record<string, VersionMark>>
}> {
  // AbortSignal.timeout, on the injected clock and cancelled once the registry has answered.
  const timer = new AbortController()
  const timeout = timer.signal
  const cancelTimer = scheduleOn(
    options.clock ?? systemClock,
    () => timer.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    timeoutMs,
  )
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  options.onProgress?.({ type: 'mesh:resolve:registry:start', registry: registry.id, name })
  const done = (outcome: RegistryOutcome, rest: { candidate?: Candidate; failure?: unknown } = {}) => {
    options.onProgress?.({ type: 'mesh:resolve:registry:done', outcome, name })
    // A registry's marks count whatever became of its record: they are about the name.
    return { outcome, ...rest, ...(entry?.marks === undefined ? {} : { marks: entry.marks }) }
  }
  let entry: Awaited<ReturnType<Registry['lookup']>> | undefined
  try {
    entry = await raceSignal(registry.lookup(name, { signal }), signal, `${registry.id} lookup of ${name}`)
  } catch (err) {
    const timedOut = timeout.aborted && !options.signal?.aborted
    log.error('registry %s failed on %s: %s', registry.id, name, (err as Error)?.message)
    return done(
      {
        registry: registry.id,
        status: timedOut ? 'timeout' : 'error',
        error: timedOut
          ? { code: 'E_TIMEOUT', message: `no answer within ${timeoutMs} ms` }
          : {
              code: isMeshError(err) ? err.code : 'E_REGISTRY',
              message: (err as Error)?.message ?? String(err),
            },
      },
      { failure: err },
    )
  } finally {
    cancelTimer()
  }
  if (entry === undefined) return done({ registry: registry.id, status: 'not-found' })
  try {
    const verified = await options.verifier.verify(entry.bytes, {
      origin: registry.id,
      expectName: name,
      ...(options.allowExpired ? { allowExpired: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    const seq = verified.record.seq
    const highest = options.seqLedger?.highest(name)
    if (highest !== undefined && seq < highest)
      throw new SeqRollbackError({ name, origin: registry.id }, seq, highest)
    const candidate: Candidate = {
      verified,
      index,
      ...(entry.location === undefined ? {} : { location: entry.location }),
    }
    return done({ registry: registry.id, status: 'found', seq, recordId: verified.id }, { candidate })
  } catch (err) {
    log.error('record for %s from %s refused: %s', name, registry.id, (err as Error)?.message)
    const code = isMeshError(err) ? err.code : 'E_RECORD_INVALID'
    return done(
      {
        registry: registry.id,
        status: code === 'E_SEQ_ROLLBACK' ? 'outdated' : 'invalid',
        error: { code, message: (err as Error)?.message ?? String(err) },
      },
      { failure: err },
    )
  }
}

/** The union of registries' version marks; undefined when none has any. */
function mergeMarks(
  all: readonly (Readonly<Record<string, VersionMark>> | undefined)[],
): Readonly<Record<string, VersionMark>> | undefined {
  let merged: Record<string, VersionMark> | undefined
  for (const marks of all) {
    if (marks === undefined) continue
    for (const [version, mark] of Object.entries(marks)) {
      if (!mark.deprecated && !mark.yanked) continue
      merged ??= {}
      const seen = merged[version]
      merged[version] = {
        deprecated: Boolean(seen?.deprecated || mark.deprecated),
        yanked: Boolean(seen?.yanked || mark.yanked),
      }
    }
  }
  return merged
}
