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
    super('E_NO_VALID_RECORD', `Every record found for ${name} was refused`, {
      details: {
        name,
        registries: report.map((r) => `${r.registry}: ${r.status}${r.error ? ` (${r.error.code})` : ''}`),
      },
      hint: 'See the cause: the publisher must fix and re-sign the record.',
      cause,
    })
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
