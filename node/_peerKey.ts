import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { PeerKeyError } from './errors.js'

/** Where the peer identity lives under a data directory. */
export function peerKeyPath(dataDir: string): string {
  return join(dataDir, 'peer', 'key')
}

/**
 * The node's persistent identity: the ed25519 key in `path` (libp2p's protobuf encoding, mode
 * 0600), made on first start. A file that is there but unreadable is an error, never silently
 * replaced: the peer id is how other nodes know this one.
 */
export async function loadPeerKey(path: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new PeerKeyError(path, (err as Error).message, err)
  }
  if (bytes !== undefined) {
    let key: PrivateKey
    try {
      key = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new PeerKeyError(path, 'not a libp2p private key', err)
    }
    if (key.type !== 'Ed25519') throw new PeerKeyError(path, `a ${key.type} key, ed25519 expected`)
    return key
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    // Written beside and renamed, so a crash never leaves half a key; `wx` so two starts never race.
    const tmp = `${path}.${process.pid}.tmp`
    const file = await open(tmp, 'wx', 0o600)
    try {
      await file.writeFile(privateKeyToProtobuf(key))
      await file.sync()
    } finally {
      await file.close()
    }
    await chmod(tmp, 0o600)
    await rename(tmp, path)
  } catch (err) {
    throw new PeerKeyError(path, `cannot write a new key: ${(err as Error).message}`, err)
  }
  return key
}
