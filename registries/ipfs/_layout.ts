import { MAX_PATH_SEGMENTS } from '../../src/name.js'
import { IpfsPathError, type IpfsPathProblem } from './errors.js'

/** One segment of a record's path: the mesh's name grammar (the namespace label's too), nothing else. */
const SEGMENT = /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/

/** Why `segment` cannot be one segment of a tree path, or undefined when it can. */
function segmentProblem(segment: string): IpfsPathProblem | undefined {
  if (segment.length === 0) return 'empty-segment'
  if (segment === '.' || segment === '..') return 'dot-segment'
  if (/%(2f|5c|2e|00)/i.test(segment) || segment.includes('/')) return 'encoded-separator'
  if (segment.includes('\\')) return 'backslash'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(segment)) return 'control-character'
  if (!SEGMENT.test(segment)) return 'not-a-name-segment'
  return undefined
}

/**
 * Where a record lives in the registry's UnixFS tree: `<namespace>/<path segments>.json`. A name that
 * would step out of the tree or read as another path (`..`, a leading `/`, `%2F`, a backslash, an
 * empty or odd segment) is an {@link IpfsPathError}.
 */
export function recordSegments(name: string, registry: string): string[] {
  if (name.startsWith('/')) throw new IpfsPathError(registry, name, 'absolute')
  const parts = name.split('/')
  if (parts.length < 2 || parts.length > MAX_PATH_SEGMENTS + 1)
    throw new IpfsPathError(registry, name, parts.length < 2 ? 'empty-segment' : 'too-many-segments')
  for (const part of parts) {
    const problem = segmentProblem(part)
    if (problem !== undefined) throw new IpfsPathError(registry, name, problem, part)
  }
  const last = parts.length - 1
  parts[last] = `${parts[last]}.json`
  return parts
}

/**
 * The record name of a file at `segments` in the tree; undefined for a file that holds no record
 * (not `.json`). A link name that is not a name segment (`..`, `a/b`, `%2F`) is an {@link IpfsPathError}.
 */
export function nameOfSegments(segments: readonly string[], registry: string): string | undefined {
  const last = segments.at(-1)
  if (segments.length < 2 || last === undefined || !last.endsWith('.json')) return undefined
  const parts = [...segments.slice(0, -1), last.slice(0, -'.json'.length)]
  const path = segments.join('/')
  if (parts.length > MAX_PATH_SEGMENTS + 1) throw new IpfsPathError(registry, path, 'too-many-segments')
  for (const part of parts) {
    const problem = segmentProblem(part)
    if (problem !== undefined) throw new IpfsPathError(registry, path, problem, part)
  }
  return parts.join('/')
}
