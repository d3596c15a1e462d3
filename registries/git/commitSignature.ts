import { verify } from 'node:crypto'
import { publicKeyObject, type Signer } from '../../src/trust/signer.js'

/** Prefixed to the commit payload a commit signature covers, so it can never pass for a record signature. */
export const COMMIT_SIGNING_DOMAIN = 'function-mesh/git-commit/v1\n'
const BEGIN = '-----BEGIN FMESH SIGNATURE-----'
const END = '-----END FMESH SIGNATURE-----'
const encoder = new TextEncoder()

/** A commit's author or committer line. */
export interface CommitPerson {
  name: string
  email: string
  /** Seconds since the Unix epoch. */
  timestamp: number
}

/** What a commit is made of, before it is written. */
export interface CommitFields {
  tree: string
  parents: readonly string[]
  author: CommitPerson
  committer: CommitPerson
  message: string
}

/** What a commit's signature says, after checking it. */
export type CommitSignatureStatus =
  /** Signed with a function-mesh key; `keyId` is the did:key whose signature verified. */
  | { status: 'valid'; keyId: string }
  /** A function-mesh signature block that does not verify (altered commit, wrong key, garbled block). */
  | { status: 'invalid'; keyId?: string; reason: string }
  /** No signature at all. */
  | { status: 'unsigned' }
  /** A PGP, SSH or X.509 signature made by other tools; not checked here. */
  | { status: 'foreign'; kind: string }

function person(p: CommitPerson): string {
  const clean = (s: string) => s.replace(/[<>\n]/g, '')
  return `${clean(p.name)} <${clean(p.email)}> ${Math.floor(p.timestamp)} +0000`
}

/** The commit object text without a signature: what the signature covers, after the domain prefix. */
export function renderCommitPayload(fields: CommitFields): string {
  const lines = [`tree ${fields.tree}`]
  for (const parent of fields.parents) lines.push(`parent ${parent}`)
  lines.push(`author ${person(fields.author)}`, `committer ${person(fields.committer)}`)
  const message = fields.message.endsWith('\n') ? fields.message : `${fields.message}\n`
  return `${lines.join('\n')}\n\n${message}`
}

/**
 * The full commit object text, signed by `signer` when given: the payload with a `gpgsig` header
 * holding an `FMESH SIGNATURE` block (the key's did:key and an ed25519 signature over
 * `COMMIT_SIGNING_DOMAIN + payload`).
 *
 * @example
 * ```ts
 * const text = await signedCommitText({ tree, parents: [head], author, committer: author, message: 'publish' }, signer)
 * await git.writeObject({ fs, gitdir, type: 'commit', format: 'content', object: Buffer.from(text) })
 * ```
 */
export async function signedCommitText(fields: CommitFields, signer?: Signer): Promise<string> {
  const payload = renderCommitPayload(fields)
  if (signer === undefined) return payload
  const sig = await signer.sign(encoder.encode(COMMIT_SIGNING_DOMAIN + payload))
  const armor = [
    BEGIN,
    `Key-Id: ${signer.id}`,
    'Alg: ed25519',
    '',
    Buffer.from(sig).toString('base64url'),
    END,
  ]
  const split = payload.indexOf('\n\n')
  return `${payload.slice(0, split)}\ngpgsig ${armor.join('\n ')}${payload.slice(split)}`
}

/** Splits a raw commit object into its payload (without `gpgsig`) and the signature block, if any. */
export function splitCommitSignature(raw: string): { payload: string; signature?: string } {
  const split = raw.indexOf('\n\n')
  const head = split === -1 ? raw : raw.slice(0, split)
  const rest = split === -1 ? '' : raw.slice(split)
  const kept: string[] = []
  const sig: string[] = []
  let inSig = false
  for (const line of head.split('\n')) {
    if (line.startsWith('gpgsig ')) {
      inSig = true
      sig.push(line.slice('gpgsig '.length))
    } else if (inSig && line.startsWith(' ')) {
      sig.push(line.slice(1))
    } else {
      inSig = false
      kept.push(line)
    }
  }
  const payload = `${kept.join('\n')}${rest}`
  return sig.length === 0 ? { payload } : { payload, signature: sig.join('\n') }
}

/**
 * Checks the signature on a raw commit object (as `git cat-file commit` prints it).
 *
 * @example
 * ```ts
 * const { object } = await git.readObject({ fs, gitdir, oid, format: 'content' })
 * verifyCommitText(new TextDecoder().decode(object)) // { status: 'valid', keyId: 'did:key:z6Mk...' }
 * ```
 */
export function verifyCommitText(raw: string): CommitSignatureStatus {
  const { payload, signature } = splitCommitSignature(raw)
  if (signature === undefined) return { status: 'unsigned' }
  const first = signature.split('\n', 1)[0]!.trim()
  if (first !== BEGIN) {
    const kind = /-----BEGIN (.+)-----/.exec(first)?.[1] ?? 'unknown'
    return { status: 'foreign', kind }
  }
  const lines = signature.split('\n')
  if (lines[lines.length - 1]!.trim() !== END)
    return { status: 'invalid', reason: 'the block has no END line' }
  const keyLine = lines.find((l) => l.startsWith('Key-Id: '))
  const sigLine = lines.slice(1, -1).find((l) => /^[A-Za-z0-9_-]{86}$/.test(l.trim()))
  if (keyLine === undefined) return { status: 'invalid', reason: 'the block names no Key-Id' }
  const keyId = keyLine.slice('Key-Id: '.length).trim()
  if (sigLine === undefined)
    return { status: 'invalid', keyId, reason: 'the block holds no ed25519 signature' }
  const key = publicKeyObject(keyId)
  if (key === undefined) return { status: 'invalid', keyId, reason: 'Key-Id is not an ed25519 did:key' }
  const ok = verify(
    null,
    encoder.encode(COMMIT_SIGNING_DOMAIN + payload),
    key,
    Buffer.from(sigLine.trim(), 'base64url'),
  )
  return ok
    ? { status: 'valid', keyId }
    : { status: 'invalid', keyId, reason: 'the signature does not match the commit' }
}
