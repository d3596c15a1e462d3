import { closest, distance } from 'fastest-levenshtein'
import { ConfigError } from './errors/registry.js'

/**
 * Refuses keys of an options object that are not in `known`, naming the key and the nearest known
 * one (a misspelt option is a bug, never a silent default).
 */
export function checkKnownKeys(value: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue
    const near = known.length === 0 ? undefined : closest(key, known as string[])
    const hint =
      near !== undefined && distance(key, near) <= Math.max(2, Math.floor(near.length / 3))
        ? `; did you mean \`${near}\`?`
        : `; known options: ${known.join(', ')}`
    throw new ConfigError(path === '' ? key : `${path}.${key}`, `unknown option \`${key}\`${hint}`)
  }
}

/** Requires `value` to be a plain object (or undefined, when `optional`), naming `path` otherwise. */
export function checkObject(value: unknown, path: string, what: string): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(path, `must be ${what}`)
}
