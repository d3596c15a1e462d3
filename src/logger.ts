import debug from 'debug'

export type Logger = debug.Debugger & { error: debug.Debugger }

/** A component logger, on with `DEBUG=fmesh:*` (libp2p's `logger.forComponent`). Libraries never print. */
export function logger(component: string): Logger {
  const log = debug(`fmesh:${component}`) as Logger
  log.error = debug(`fmesh:${component}:error`)
  return log
}
