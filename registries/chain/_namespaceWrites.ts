import { hexlify, id as keccakText } from 'ethers'
import { ConfigError } from '../../src/errors/registry.js'
import { publicKeyFromKeyId } from '../../src/trust/signer.js'
import type { RevertContext } from './_reverts.js'
import type { BuildTransaction } from './_transactions.js'
import type { VersionMarkStatus } from './types.js'

/** A namespace write: what it is called in errors, and the contract call that sends it. */
export interface NamespaceWrite {
  readonly ctx: Omit<RevertContext, 'registry' | 'account'>
  readonly build: BuildTransaction
}

const MARKS: Record<VersionMarkStatus, number> = { none: 0, deprecated: 1, yanked: 2, 'deprecated+yanked': 3 }

/** The 32-byte ed25519 public key (hex) of a did:key, as the contract stores publisher keys. */
function publisherKey(keyId: string, operation: string): string {
  const key = publicKeyFromKeyId(String(keyId))
  if (key === undefined)
    throw new ConfigError(`${operation}.keyId`, 'must be an ed25519 did:key (did:key:z6Mk...)')
  return hexlify(key)
}

/** The namespace owner's transactions, each checked before anything is sent. */
export const namespaceWrites = {
  claim: (ns: string): NamespaceWrite => ({
    ctx: { operation: `claim ${ns}` },
    build: (c) => c.getFunction('claim')(ns),
  }),
  addPublisher(ns: string, keyId: string): NamespaceWrite {
    const key = publisherKey(keyId, 'addPublisher')
    return {
      ctx: { operation: `add a publisher to ${ns}`, namespace: ns },
      build: (c) => c.getFunction('addPublisher')(keccakText(ns), key),
    }
  },
  removePublisher(ns: string, keyId: string): NamespaceWrite {
    const key = publisherKey(keyId, 'removePublisher')
    return {
      ctx: { operation: `remove a publisher from ${ns}`, namespace: ns },
      build: (c) => c.getFunction('removePublisher')(keccakText(ns), key),
    }
  },
  transferOwnership: (ns: string, to: string): NamespaceWrite => ({
    ctx: { operation: `transfer ${ns}`, namespace: ns },
    build: (c) => c.getFunction('transferOwnership')(keccakText(ns), to),
  }),
  cancelOwnershipTransfer: (ns: string): NamespaceWrite => ({
    ctx: { operation: `cancel the transfer of ${ns}`, namespace: ns },
    build: (c) => c.getFunction('cancelOwnershipTransfer')(keccakText(ns)),
  }),
  acceptOwnership: (ns: string): NamespaceWrite => ({
    ctx: { operation: `accept ${ns}` },
    build: (c) => c.getFunction('acceptOwnership')(keccakText(ns)),
  }),
  markVersion(name: string, version: string, status: VersionMarkStatus): NamespaceWrite {
    const flags = MARKS[status]
    if (flags === undefined)
      throw new ConfigError('markVersion.status', `must be one of ${Object.keys(MARKS).join(', ')}`)
    return {
      ctx: { operation: `mark ${name}@${version} ${status}`, namespace: String(name).split('/')[0]! },
      build: (c) => c.getFunction('markVersion')(name, version, flags),
    }
  },
}
