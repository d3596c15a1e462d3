import type { Helia } from '@helia/interface'
import type { AbortOptions } from '../../src/registry/types.js'

/**
 * The node's keychain, with each exported key kept once read: IPNS exports the signing key on every
 * publish, and the keychain derives its decryption key (PBKDF2) for each export.
 */
export function cachedKeychain(keychain: Helia['keychain']): Helia['keychain'] {
  const keys = new Map<string, ReturnType<Helia['keychain']['exportKey']>>()
  return new Proxy(keychain, {
    get(target, property, receiver) {
      if (property !== 'exportKey') return Reflect.get(target, property, receiver)
      return (keyName: string, options?: AbortOptions) => {
        let key = keys.get(keyName)
        if (key === undefined) {
          key = target.exportKey(keyName, options)
          keys.set(keyName, key)
          key.catch(() => keys.delete(keyName))
        }
        return key
      }
    },
  })
}
