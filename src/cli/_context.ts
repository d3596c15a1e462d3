import { type Output, output } from './_output.js'

/**
 * Fires on the first Ctrl-C or SIGTERM (main.ts): commands pass it to what they run (`mesh.call`,
 * a sync) so the work in flight stops cleanly and the command says what became of it.
 */
export const interrupt = new AbortController()

/** Flags every command takes. */
export const commonArgs = {
  json: { type: 'boolean', description: 'Print one JSON document instead of text', default: false },
  config: { type: 'string', description: 'A config file (JSON)' },
} as const

export interface CommandContextValue {
  out: Output
  json: boolean
  configPath: string | undefined
}

export function context(args: {
  json?: boolean | undefined
  config?: string | undefined
}): CommandContextValue {
  const json = args.json === true
  return { out: output(json), json, configPath: args.config }
}
