import { MeshError } from './base.js'

/** One registry's part in a federated lookup, as reported in errors and results. */
export interface RegistryOutcome {
  registry: string
  /**
   * `outdated`: a valid record older (lower seq) than one already accepted for the name: a lagging
   * mirror, or a rollback attempt; never served.
   */
  status: 'found' | 'not-found' | 'invalid' | 'outdated' | 'error' | 'timeout' | 'skipped'
  error?: { code: string; message: string }
  seq?: number
  recordId?: string
}

/** No source knows the name. */
export class FunctionNotFoundError extends MeshError {
  override name = 'FunctionNotFoundError'
  /** Each registry's answer; empty when the "not found" came from the negative cache. */
  readonly report: readonly RegistryOutcome[]
  constructor(name: string, report: readonly RegistryOutcome[] = []) {
    super('E_FUNCTION_NOT_FOUND', `No record found for ${name}`, {
      details: { name, registries: report.map((r) => `${r.registry}: ${r.status}`) },
      hint: 'Check the spelling, or publish the record (`fmesh publish FILE`).',
    })
    this.report = report
  }
}

/** The record exists but no version satisfies the selector. */
export class NoMatchingVersionError extends MeshError {
  override name = 'NoMatchingVersionError'
  constructor(name: string, selector: string, available: readonly string[], skipped: readonly string[]) {
    super('E_NO_MATCHING_VERSION', `No version of ${name} satisfies ${selector}`, {
      details: { name, selector, available, skippedDeprecatedOrYanked: skipped },
      hint:
        skipped.length > 0
          ? 'Deprecated and yanked versions are skipped unless asked for exactly (name@1.2.3) or with includeDeprecated.'
          : 'Pick a selector that matches one of the available versions.',
    })
  }
}

/** Every registry failed (and no stale answer could be served). */
export class RegistriesUnavailableError extends MeshError {
  override name = 'RegistriesUnavailableError'
  constructor(name: string, report: readonly RegistryOutcome[]) {
    super('E_REGISTRIES_UNAVAILABLE', `Every registry failed to answer for ${name}`, {
      details: {
        name,
        registries: report.map((r) => `${r.registry}: ${r.status}${r.error ? ` (${r.error.code})` : ''}`),
      },
      hint: 'Check the registries named above; a cached answer is served only within the stale-if-error window.',
    })
  }
}

/** Every answer found was refused by verification. The first refusal is the `cause`. */
export class NoValidRecordError extends MeshError {
  override name = 'NoValidRecordError'
  constructor(name: string, report: readonly RegistryOutcome[], cause: unknown) {
    const code = (cause as { code?: unknown })?.code
    const because = (cause as { shortMessage?: unknown })?.shortMessage
    super(
      'E_NO_VALID_RECORD',
      `Every record found for ${name} was refused${typeof because === 'string' ? `: ${because}` : ''}`,
      {
        details: {
          name,
          registries: report.map((r) => `${r.registry}: ${r.status}${r.error ? ` (${r.error.code})` : ''}`),
        },
        hint: refusalHint(code, cause),
        cause,
      },
    )
  }
}

/** What to do about a refusal depends on whose it is to fix: this mesh's trust, or the publisher's record. */
function refusalHint(code: unknown, cause: unknown): string {
  switch (code) {
    case 'E_NAMESPACE_UNOWNED':
    case 'E_SIGNER_NOT_OWNER':
      // The reader's trust decides these: the cause says which keys to pin, or why not.
      return (cause as { hint?: string })?.hint ?? 'Check the trust configured for the namespace.'
    case 'E_SEQ_ROLLBACK':
      return 'A registry serves an older record than this mesh has seen: it is stale or replaying; the newer record is elsewhere.'
    case 'E_RECORD_EXPIRED':
    case 'E_RECORD_NOT_YET_VALID':
      return "The record is outside its validity window: the publisher must publish a fresh one (or this machine's clock is off)."
    default:
      return 'See the cause: the publisher must fix and re-sign the record.'
  }
}

/** The operation was aborted through its `AbortSignal`. */
export class AbortedError extends MeshError {
  override name = 'AbortedError'
  constructor(what: string, cause?: unknown) {
    super('E_ABORTED', `${what} was aborted`, { cause })
  }
}

/** The operation ran past its deadline. */
export class TimeoutError extends MeshError {
  override name = 'TimeoutError'
  constructor(what: string, timeoutMs: number) {
    super('E_TIMEOUT', `${what} timed out after ${timeoutMs} ms`, {
      details: { timeoutMs },
      hint: 'Raise the timeout, or check that the source is reachable.',
    })
  }
}
