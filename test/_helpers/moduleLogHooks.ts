import { appendFileSync } from 'node:fs'
import type { InitializeHook, ResolveHook } from 'node:module'

// Loader-thread half of moduleLog.ts: appends each resolved URL as it is resolved, so a process that
// exits abruptly still leaves a complete log.
let file = ''

export const initialize: InitializeHook<{ file: string }> = (data) => {
  file = data.file
}

export const resolve: ResolveHook = async (specifier, context, next) => {
  const resolved = await next(specifier, context)
  appendFileSync(file, `esm ${resolved.url}\n`)
  return resolved
}
