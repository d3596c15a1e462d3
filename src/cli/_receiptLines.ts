import type { PublishReceipt } from '../registry/types.js'

/**
 * A publish's receipts for people: where each registry stored the record, and for an IPFS registry
 * the IPNS name its root is now published under (what a reader follows).
 */
export function receiptLines(receipts: readonly PublishReceipt[]): string[] {
  return receipts.flatMap((r) => [
    `  stored  ${r.registry}${r.location ? ` at ${r.location}` : ''}`,
    ...(r.ipnsName === undefined
      ? []
      : [
          `          root under ${r.ipnsName}${r.ipnsSequence === undefined ? '' : ` (IPNS seq ${r.ipnsSequence})`}: readers follow this name`,
        ]),
  ])
}
