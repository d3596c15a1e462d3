import picomatch from 'picomatch'
import { MeshError } from '../errors/base.js'

/** Longest accepted glob. @default 256 */
export const MAX_PATTERN_LENGTH = 256

/**
 * Compiles a glob over function names: `*` matches within one path segment, `**` across segments,
 * `{a,b}` alternatives. Case-insensitive, as names are normalized to lowercase.
 *
 * @example
 * ```ts
 * const match = compileNamePattern('acme.com/image/*')
 * match('acme.com/image/sharpen') // true
 * ```
 */
export function compileNamePattern(pattern: string): (name: string) => boolean {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw new MeshError(
      'E_PATTERN_INVALID',
      `Invalid name pattern ${JSON.stringify(String(pattern).slice(0, 80))}`,
      {
        details: { rule: `1-${MAX_PATTERN_LENGTH} characters` },
        hint: 'Use a glob such as acme.com/** or */image/*.',
      },
    )
  }
  if (!/^[a-zA-Z0-9._\-/*?{},[\]!]+$/.test(pattern)) {
    throw new MeshError('E_PATTERN_INVALID', `Invalid name pattern ${JSON.stringify(pattern.slice(0, 80))}`, {
      details: { rule: 'letters, digits, . _ - / and glob characters * ? { } , [ ] ! only' },
      hint: 'Use a glob such as acme.com/** or */image/*.',
    })
  }
  const lowered = pattern.toLowerCase()
  if (lowered === '**') return () => true
  return picomatch(lowered, { dot: true, nonegate: false, strictSlashes: true })
}
