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

/**
 * Flags of the commands that go through a node running on the data dir (`fmesh node start`), as the
 * ipfs CLI goes through a running daemon.
 */
export const nodeArgs = {
  offline: {
    type: 'boolean',
    description: 'Open the data dir here, not through a running node (same as --no-node)',
    default: false,
  },
  node: {
    type: 'boolean',
    description: 'Go through the node running on the data dir, when there is one (--no-node: do not)',
    default: true,
  },
} as const

/** Whether a command was told not to go through a running node. */
export const offline = (args: { offline?: boolean | undefined; node?: boolean | undefined }) =>
  args.offline === true || args.node === false

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
