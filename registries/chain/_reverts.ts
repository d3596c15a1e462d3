import type { Interface } from 'ethers'
import { PublishConflictError } from '../../src/errors/registry.js'
import { ChainRevertError, NotNamespaceOwnerError } from './errors.js'

/** A decoded custom error of the registry contract. */
export interface Revert {
  readonly name: string
  readonly args: readonly unknown[]
}

/** The contract's custom error inside an ethers error (estimateGas, eth_call or a receipt), if any. */
export function decodeRevert(iface: Interface, err: unknown): Revert | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' && data.startsWith('0x') && data.length >= 10) {
      const parsed = iface.parseError(data)
      if (parsed !== null) return { name: parsed.name, args: [...parsed.args] }
    }
    e = (e as { error?: unknown; cause?: unknown }).error ?? (e as { cause?: unknown }).cause
  }
  return undefined
}

/** What a revert means to a caller. */
export interface RevertContext {
  readonly registry: string
  readonly operation: string
  readonly namespace?: string
  readonly account?: string
  readonly name?: string
  readonly seq?: number
}

/** The MeshError for a decoded revert: StaleSeq is a publish conflict, NotOwner a wrong account. */
export function revertError(revert: Revert, ctx: RevertContext, cause: unknown): Error {
  if (revert.name === 'StaleSeq' && ctx.name !== undefined && ctx.seq !== undefined)
    return new PublishConflictError(ctx.registry, ctx.name, ctx.seq, Number(revert.args[0]))
  if (revert.name === 'NotOwner' && ctx.namespace !== undefined)
    return new NotNamespaceOwnerError(
      ctx.namespace,
      ctx.account ?? String(revert.args[1]),
      'another account',
      cause,
    )
  if (revert.name === 'UnknownNamespace' && ctx.namespace !== undefined)
    return new NotNamespaceOwnerError(ctx.namespace, ctx.account ?? '(none)', undefined, cause)
  return new ChainRevertError(ctx.operation, revert.name, revert.args.map(String), cause)
}
