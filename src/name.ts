import semver from 'semver'
import { InvalidArgumentError } from './errors/mesh.js'
import { NameInvalidError, VersionSelectorInvalidError } from './errors/name.js'

/** Which versions a caller accepts: the newest eligible, one exact version, or a semver range. */
export type VersionSelector =
  | { kind: 'latest' }
  | { kind: 'exact'; version: string }
  | { kind: 'range'; range: string; raw: string }

/** A parsed, normalized function name: `namespace/path[@selector]`. */
export interface FunctionName {
  /** `acme.com`, `io.github.alice` (vendor) or `image-processing` (bare). */
  readonly namespace: string
  /** `image/sharpen`: one or more segments. */
  readonly path: string
  /** `namespace/path`, the key records are stored under. */
  readonly name: string
  readonly selector: VersionSelector
}

/** Longest accepted input, checked before any other work. @default 512 */
export const MAX_NAME_INPUT_LENGTH = 512
/** Longest `namespace/path`. @default 256 */
export const MAX_NAME_LENGTH = 256
/** Longest namespace (as DNS names). @default 253 */
export const MAX_NAMESPACE_LENGTH = 253
/** Most path segments. @default 8 */
export const MAX_PATH_SEGMENTS = 8
/** Longest path segment. @default 64 */
export const MAX_SEGMENT_LENGTH = 64
/** Longest version selector. @default 128 */
export const MAX_SELECTOR_LENGTH = 128

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const SEGMENT = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/

/**
 * Parses and normalizes a function name. Letters are lowercased; anything else that breaks a rule
 * is a {@link NameInvalidError} whose `details.rule` names the rule.
 *
 * @example
 * ```ts
 * const n = parseFunctionName('Acme.com/image/sharpen@^1.2')
 * // { namespace: 'acme.com', path: 'image/sharpen', name: 'acme.com/image/sharpen',
 * //   selector: { kind: 'range', range: '>=1.2.0 <2.0.0-0', raw: '^1.2' } }
 * ```
 */
export function parseFunctionName(input: string): FunctionName {
  if (typeof input !== 'string') throw new NameInvalidError(String(input), 'type', 'a name must be a string')
  if (input.length === 0) throw new NameInvalidError(input, 'empty', 'the name is empty')
  if (input.length > MAX_NAME_INPUT_LENGTH) {
    throw new NameInvalidError(input, 'length', `longer than ${MAX_NAME_INPUT_LENGTH} characters`)
  }
  const at = input.indexOf('@')
  const namePart = (at === -1 ? input : input.slice(0, at)).toLowerCase()
  const selector = at === -1 ? LATEST : parseSelector(input, input.slice(at + 1))
  const { namespace, path } = splitName(input, namePart)
  return { namespace, path, name: namePart, selector }
}

/**
 * Formats a name back to its canonical text; `parseFunctionName(formatFunctionName(n))` equals `n`.
 *
 * @example
 * ```ts
 * formatFunctionName(parseFunctionName('ACME.com/Image/Sharpen@v1.2.0')) // 'acme.com/image/sharpen@1.2.0'
 * ```
 */
export function formatFunctionName(name: FunctionName): string {
  if (name === null || typeof name !== 'object' || typeof name.name !== 'string')
    throw new InvalidArgumentError(
      'formatFunctionName',
      'name',
      'a FunctionName from parseFunctionName',
      name,
    )
  return name.name + formatSelector(name.selector)
}

/** The `@...` suffix for a selector (empty for `latest`). */
export function formatSelector(selector: VersionSelector): string {
  if (selector === null || typeof selector !== 'object')
    throw new InvalidArgumentError('formatSelector', 'selector', 'a VersionSelector', selector)
  switch (selector.kind) {
    case 'latest':
      return ''
    case 'exact':
      return `@${selector.version}`
    case 'range':
      return `@${selector.raw}`
  }
}

/** Checks a bare `namespace/path` (no selector), as used for record names; returns it normalized. */
export function normalizeRecordName(input: string): string {
  return parseRecordName(input).name
}

/** {@link normalizeRecordName}, giving the parsed name (its namespace too) instead of its text. */
export function parseRecordName(input: string): FunctionName {
  const parsed = parseFunctionName(input)
  if (parsed.selector.kind !== 'latest' || input.includes('@')) {
    throw new NameInvalidError(input, 'no-selector', 'a record name carries no @version')
  }
  return parsed
}

const LATEST: VersionSelector = Object.freeze({ kind: 'latest' })

function parseSelector(input: string, text: string): VersionSelector {
  if (text.length === 0 || text.length > MAX_SELECTOR_LENGTH || text.trim() !== text) {
    throw new VersionSelectorInvalidError(input, text)
  }
  if (text.toLowerCase() === 'latest') return LATEST
  const exact = semver.valid(text)
  if (exact !== null) return { kind: 'exact', version: exact }
  const range = /^[0-9a-zA-Z.^~<>=*xX|+ -]+$/.test(text) ? semver.validRange(text) : null
  if (range === null) throw new VersionSelectorInvalidError(input, text)
  return { kind: 'range', range, raw: text.replace(/\s+/g, ' ') }
}

function splitName(input: string, name: string): { namespace: string; path: string } {
  if (name.length > MAX_NAME_LENGTH) {
    throw new NameInvalidError(input, 'length', `namespace/path is longer than ${MAX_NAME_LENGTH} characters`)
  }
  const slash = name.indexOf('/')
  if (slash === -1)
    throw new NameInvalidError(input, 'path-required', 'expected NAMESPACE/PATH, found no "/"')
  const namespace = name.slice(0, slash)
  const path = name.slice(slash + 1)
  checkNamespace(input, namespace)
  checkPath(input, path)
  return { namespace, path }
}

function checkNamespace(input: string, namespace: string): void {
  if (namespace.length === 0) throw new NameInvalidError(input, 'namespace-empty', 'the namespace is empty')
  if (namespace.length > MAX_NAMESPACE_LENGTH) {
    throw new NameInvalidError(input, 'namespace-length', `namespace is longer than ${MAX_NAMESPACE_LENGTH}`)
  }
  for (const label of namespace.split('.')) {
    if (!LABEL.test(label)) {
      throw new NameInvalidError(
        input,
        'namespace-label',
        `namespace label ${JSON.stringify(label)} must be 1-63 of a-z, 0-9 and "-", not starting or ending with "-"`,
      )
    }
  }
}

function checkPath(input: string, path: string): void {
  if (path.length === 0)
    throw new NameInvalidError(input, 'path-empty', 'the path after the namespace is empty')
  const segments = path.split('/')
  if (segments.length > MAX_PATH_SEGMENTS) {
    throw new NameInvalidError(input, 'path-segments', `more than ${MAX_PATH_SEGMENTS} path segments`)
  }
  for (const segment of segments) {
    if (segment.length > MAX_SEGMENT_LENGTH) {
      throw new NameInvalidError(input, 'segment-length', `path segment longer than ${MAX_SEGMENT_LENGTH}`)
    }
    if (!SEGMENT.test(segment) || segment.includes('..')) {
      throw new NameInvalidError(
        input,
        'path-segment',
        `path segment ${JSON.stringify(segment)} must be a-z, 0-9, ".", "_" and "-", start and end with a letter or digit, without ".."`,
      )
    }
  }
}
