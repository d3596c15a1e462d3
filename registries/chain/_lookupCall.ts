import type { VersionMark } from '../../src/registry/types.js'
import type { Connection } from './_connection.js'
import { rpcError } from './_connection.js'
import { decodeRevert, revertError } from './_reverts.js'

/** What the contract's `lookup(name)` returns, as ethers decodes it. */
export interface LookupAnswer {
  readonly anchor: {
    readonly recordDigest: string
    readonly seq: bigint
    readonly updatedAtBlock: bigint
    readonly pointerKind: bigint
    readonly pointer: string
  }
  readonly owner: string
  readonly publishers: readonly string[]
  /** The name's version marks: version text and DEPRECATED (1) | YANKED (2) flags. */
  readonly marks: readonly { readonly version: string; readonly status: bigint }[]
}

/**
 * One `eth_call` of `lookup(name)`: the anchor, the namespace's owner and publisher keys, the version
 * marks; at `blockTag` when given (the last confirmed block), else at the head.
 */
export async function lookupCall(
  conn: Connection,
  registry: string,
  name: string,
  blockTag?: number,
): Promise<LookupAnswer> {
  try {
    const [anchor, owner, publishers, marks] = await conn.contract
      .getFunction('lookup')
      .staticCall(name, blockTag === undefined ? {} : { blockTag })
    return { anchor, owner, publishers, marks }
  } catch (err) {
    const revert = decodeRevert(conn.contract.interface, err)
    if (revert !== undefined) throw revertError(revert, { registry, operation: `look up ${name}` }, err)
    throw rpcError(conn.rpcUrl, `look up ${name}`, err)
  }
}

/** The contract's version marks as the mesh's (DEPRECATED 1, YANKED 2); undefined when none. */
export function versionMarks(marks: LookupAnswer['marks']): Record<string, VersionMark> | undefined {
  if (marks.length === 0) return undefined
  const out: Record<string, VersionMark> = {}
  for (const { version, status } of marks)
    out[version] = { deprecated: (status & 1n) !== 0n, yanked: (status & 2n) !== 0n }
  return out
}
