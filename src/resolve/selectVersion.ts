import semver from 'semver'
import { NoMatchingVersionError } from '../errors/resolve.js'
import type { VersionSelector } from '../name.js'
import { formatSelector } from '../name.js'
import type { FunctionRecord } from '../record/schema.js'
import type { VersionMark } from '../registry/types.js'

/**
 * Picks the version a selector asks for: the highest version satisfying the range, skipping
 * deprecated and yanked versions unless the selector names the version exactly or
 * `includeDeprecated` is set. `latest` prefers the record's `latestVersion` when it is eligible.
 * `marks` (a registry's, outside the signed bytes) deprecate or yank versions as the record's own
 * flags do.
 *
 * @example
 * ```ts
 * selectVersion(record, { kind: 'range', range: '^1.2.0', raw: '^1.2' }) // '1.4.1'
 * ```
 */
export function selectVersion(
  record: Pick<FunctionRecord, 'name' | 'versions' | 'latestVersion'>,
  selector: VersionSelector,
  includeDeprecated = false,
  marks?: Readonly<Record<string, VersionMark>>,
): string {
  const all = Object.keys(record.versions)
  if (selector.kind === 'exact') {
    if (record.versions[selector.version] !== undefined) return selector.version
    throw new NoMatchingVersionError(record.name, selector.version, all, [])
  }
  const eligible: string[] = []
  const skipped: string[] = []
  for (const version of all) {
    const entry = record.versions[version]!
    const mark = marks?.[version]
    const hidden = entry.deprecated || entry.yanked || mark?.deprecated === true || mark?.yanked === true
    if (!includeDeprecated && hidden) skipped.push(version)
    else eligible.push(version)
  }
  let chosen: string | null = null
  if (selector.kind === 'latest') {
    const latest = record.latestVersion
    if (latest !== undefined && eligible.includes(latest)) return latest
    chosen = semver.maxSatisfying(eligible, '*')
  } else {
    chosen = semver.maxSatisfying(eligible, selector.range)
  }
  if (chosen === null) {
    const shown = selector.kind === 'latest' ? 'latest' : formatSelector(selector).slice(1)
    throw new NoMatchingVersionError(record.name, shown, eligible, skipped)
  }
  return chosen
}
