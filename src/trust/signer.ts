import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { MeshError } from '../errors/base.js'

/** A publisher key: signs records for the namespaces it owns. */
export interface Signer {
  /** The public key as a `did:key` (ed25519), the id trust configuration names. */
  readonly id: string
  readonly alg: 'ed25519'
  /** The raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Promise<Uint8Array>
}

/** A signer whose private key lives in this process and can be exported. */
export interface LocalSigner extends Signer {
  /** The private key as a JWK (`kty: OKP`, `crv: Ed25519`), with `kid` set to the signer id. */
  exportJwk(): PrivateKeyJwk
}

export interface PrivateKeyJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  d: string
  kid?: string
}

const ED25519_MULTICODEC = Uint8Array.of(0xed, 0x01)
const DID_KEY_PREFIX = 'did:key:'

/**
 * Creates a new ed25519 publisher key.
 *
 * @example
 * ```ts
 * const signer = await generateSigner()
 * const mesh = await createMesh({ trust: { owners: { 'acme.com': [signer.id] } } })
 * ```
 */
export async function generateSigner(): Promise<LocalSigner> {
  const { privateKey } = generateKeyPairSync('ed25519')
  return fromPrivateKey(privateKey)
}

/**
 * Loads a signer from a private JWK written by {@link LocalSigner.exportJwk} or `fmesh keys new`.
 *
 * @example
 * ```ts
 * const signer = await importSigner(JSON.parse(await readFile('publisher.jwk', 'utf8')))
 * ```
 */
export async function importSigner(jwk: PrivateKeyJwk): Promise<LocalSigner> {
  if (
    jwk === null ||
    typeof jwk !== 'object' ||
    jwk.kty !== 'OKP' ||
    jwk.crv !== 'Ed25519' ||
    !jwk.d ||
    !jwk.x
  ) {
    throw new MeshError('E_KEY_INVALID', 'Not an ed25519 private key JWK', {
      details: { expected: '{ kty: "OKP", crv: "Ed25519", x, d }' },
      hint: 'Create a key with `fmesh keys new`.',
    })
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' })
  } catch (err) {
    throw new MeshError('E_KEY_INVALID', 'The ed25519 private key JWK does not load', { cause: err })
  }
  const signer = fromPrivateKey(key)
  if (jwk.kid !== undefined && jwk.kid !== signer.id) {
    throw new MeshError('E_KEY_INVALID', 'The JWK kid does not match its public key', {
      details: { kid: jwk.kid, expected: signer.id },
    })
  }
  return signer
}

function fromPrivateKey(privateKey: KeyObject): LocalSigner {
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string }
  const publicKey = new Uint8Array(Buffer.from(jwk.x, 'base64url'))
  const id = keyIdFromPublicKey(publicKey)
  return {
    id,
    alg: 'ed25519',
    publicKey,
    async sign(data) {
      return new Uint8Array(sign(null, data, privateKey))
    },
    exportJwk() {
      return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid: id }
    },
  }
}

/** `did:key:z6Mk...` for a raw ed25519 public key. */
export function keyIdFromPublicKey(publicKey: Uint8Array): string {
  const bytes = new Uint8Array(ED25519_MULTICODEC.length + publicKey.length)
  bytes.set(ED25519_MULTICODEC, 0)
  bytes.set(publicKey, ED25519_MULTICODEC.length)
  return DID_KEY_PREFIX + base58btc.encode(bytes)
}

/** The raw public key inside an ed25519 `did:key`, or `undefined` if the id is not one. */
export function publicKeyFromKeyId(keyId: string): Uint8Array | undefined {
  // The length bound only spares decoding a huge id: one that long never decodes to the 34 bytes
  // checked below, so dropping or moving it changes no answer (an equivalent mutant).
  if (!keyId.startsWith(`${DID_KEY_PREFIX}z`) || keyId.length > 64) return undefined
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(keyId.slice(DID_KEY_PREFIX.length))
  } catch {
    return undefined
  }
  if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return undefined
  return bytes.subarray(2)
}

/** A Node `KeyObject` for an ed25519 `did:key`, or `undefined` if the id is not one. */
export function publicKeyObject(keyId: string): KeyObject | undefined {
  const raw = publicKeyFromKeyId(keyId)
  if (raw === undefined) return undefined
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    })
  } catch {
    // Defensive: Node loads any 32 bytes as an ed25519 public key, and an empty block here returns
    // undefined all the same (an equivalent mutant).
    return undefined
  }
}
