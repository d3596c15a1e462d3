import { CallOptionsError } from '../errors/invoke.js'
import { contentId } from '../ledger/entry.js'
import type { Marketplace } from '../marketplace/Marketplace.js'
import type { Invoker } from './Invoker.js'
import type { CallOptions, DispatchResult } from './types.js'

const KIND = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/

/**
 * Invokes every local function whose descriptor lists `kind` in `triggerEvents`, each as its own
 * governed call with its own lineage (the entries name the trigger kind and the event's CID). One
 * function failing does not stop the others. With `idempotencyKey`, each function gets
 * `<key>/<name>@<version>`, so dispatching the same event again replays instead of re-running.
 */
export async function dispatchEvent(
  invoker: Pick<Invoker, 'call'>,
  marketplace: Marketplace,
  kind: string,
  event: unknown,
  options: Omit<CallOptions, 'trigger'> = {},
): Promise<DispatchResult[]> {
  if (typeof kind !== 'string' || !KIND.test(kind))
    throw new CallOptionsError(
      'kind',
      'must be a trigger event kind: 1-128 of letters, digits and . _ : / -',
      kind,
    )
  let eventCid: string
  try {
    eventCid = contentId(event)
  } catch (err) {
    throw new CallOptionsError('event', `must be JSON (${(err as Error).message})`)
  }
  const targets = [...marketplace.byTrigger(kind)]
  return Promise.all(
    targets.map(async (fn): Promise<DispatchResult> => {
      const key = options.idempotencyKey
      try {
        const result = await invoker.call(`${fn.name}@${fn.version}`, event, {
          ...options,
          trigger: { kind, eventCid },
          ...(key === undefined ? {} : { idempotencyKey: `${key}/${fn.name}@${fn.version}`.slice(0, 255) }),
        })
        return { name: fn.name, version: fn.version, ok: true, result }
      } catch (error) {
        return { name: fn.name, version: fn.version, ok: false, error: error as Error }
      }
    }),
  )
}
