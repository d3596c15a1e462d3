import { normalizeRecordName } from '../../src/name.js'
import { GitRecordPathError } from './errors.js'

/** The tree folder that holds record files. */
export const RECORDS_DIR = 'records'
const SUFFIX = '.json'

/** `acme.com/image/sharpen` -> `records/acme.com/image/sharpen.json`. */
export function recordPath(name: string): string {
  return `${RECORDS_DIR}/${name}${SUFFIX}`
}

/** Whether a tree path is a candidate record file (under records/, ending in .json). */
export function isRecordFile(path: string): boolean {
  return path.startsWith(`${RECORDS_DIR}/`) && path.endsWith(SUFFIX)
}

/** The record name a file path stands for; throws {@link GitRecordPathError} when it stands for none. */
export function nameFromPath(path: string): string {
  const name = path.slice(RECORDS_DIR.length + 1, -SUFFIX.length)
  let normalized: string
  try {
    normalized = normalizeRecordName(name)
  } catch (err) {
    throw new GitRecordPathError(path, (err as Error).message.split('\n')[0]!)
  }
  if (normalized !== name) throw new GitRecordPathError(path, `names are lowercase (${normalized})`)
  return name
}

/** The README.md written at the root of a new registry repository. */
export const REPOSITORY_README = `# function-mesh registry

This repository is a [function-mesh](https://www.npmjs.com/package/function-mesh) Git registry.
Each function record is one file holding the record's canonical JSON (RFC 8785), at a path derived
from its name:

    records/<namespace>/<path>.json
    records/acme.com/image/sharpen.json      <- acme.com/image/sharpen

- Every record carries an ed25519 signature by a publisher key of its namespace. Readers verify it,
  and refuse a record whose \`seq\` is lower than one they already accepted for the same name.
- Files are written by \`gitRegistry().publish()\` (\`fmesh publish\`). Edit them by hand only to
  review: a changed record without a valid signature is skipped by every reader and reported.
- Commits made by the registry may carry a \`-----BEGIN FMESH SIGNATURE-----\` block in the
  commit's \`gpgsig\` header: an ed25519 signature by the committing key (a did:key) over the
  commit without that header. It is not a PGP or SSH signature; \`git verify-commit\` ignores it.
- Never force-push: readers keep the highest seq they saw per name and refuse older records.
`

/** The message of a publish commit: the name, seq, record id and who signed the record. */
export function publishMessage(
  name: string,
  seq: number,
  id: string,
  signatures: readonly { keyId: string }[],
): string {
  const signers = signatures.map((s) => `Record-Signed-By: ${s.keyId}`).join('\n')
  return `Publish ${name} seq ${seq}\n\nRecord-Id: ${id}\n${signers}\n`
}
