import type { z } from 'zod'
import { ConfigError } from '../errors/registry.js'

/** A config path as people write it: `registries[1].dir`, `cache.max`. */
export function configPath(path: readonly PropertyKey[]): string {
  let text = ''
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`
    else text += text === '' ? String(key) : `.${String(key)}`
  }
  return text
}

/** The first problem zod found, as a `ConfigError` naming its place under `at` (never a zod dump). */
export function configIssueError(error: z.ZodError, at: readonly PropertyKey[] = []): ConfigError {
  const issue = error.issues[0]!
  const path = [...at, ...issue.path]
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!
    return new ConfigError(configPath([...path, key]), `unknown option \`${key}\``)
  }
  return new ConfigError(configPath(path), issue.message)
}
