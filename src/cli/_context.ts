import { type Output, output } from './_output.js'

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
