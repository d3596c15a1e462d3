import { MeshError } from '../../src/errors/base.js'

/** The registry's directory cannot hold its blockstore and datastore (a file, not writable). */
export class IpfsStoreError extends MeshError {
  override name = 'IpfsStoreError'
  constructor(registry: string, dir: string, reason: string, cause?: unknown) {
    super('E_IPFS_STORE', `IPFS registry ${registry} cannot use ${dir}: ${reason}`, {
      details: { registry, dir },
      hint: 'Point `dir` at a writable directory (it is created if missing), or pass a started Helia node as `helia`.',
      cause,
    })
  }
}

/** An entry of the registry's own name -> CID index could not be read. */
export class IpfsIndexCorruptError extends MeshError {
  override name = 'IpfsIndexCorruptError'
  constructor(registry: string, key: string, reason: string, cause?: unknown) {
    super('E_IPFS_INDEX_CORRUPT', `IPFS registry ${registry} has a corrupt index entry ${key}: ${reason}`, {
      details: { registry, key },
      hint: 'Remove the index (the datastore keys under the prefix above; with `dir`, the folder datastore/<prefix> in it): the registry rebuilds it from its IPNS root on the next start.',
      cause,
    })
  }
}

/** A block the index points at is not in the blockstore, or its bytes do not match its CID. */
export class IpfsBlockError extends MeshError {
  override name = 'IpfsBlockError'
  constructor(registry: string, cid: string, reason: 'missing' | 'corrupt', cause?: unknown) {
    super(
      reason === 'missing' ? 'E_IPFS_BLOCK_MISSING' : 'E_IPFS_BLOCK_CORRUPT',
      reason === 'missing'
        ? `IPFS registry ${registry} has no block ${cid}`
        : `IPFS registry ${registry} read block ${cid}, but its bytes do not match its CID`,
      {
        details: { registry, cid, reason },
        hint:
          reason === 'missing'
            ? 'The block was deleted outside the registry (records are pinned, so not by helia.gc()). Publish the record again.'
            : 'The blockstore on disk is damaged: delete that block file and publish the record again, or restore the directory from a backup.',
        cause,
      },
    )
  }
}

/** The registry's IPNS name resolved to a sequence below the one its index already reflects. */
export class IpnsRollbackError extends MeshError {
  override name = 'IpnsRollbackError'
  constructor(registry: string, ipnsName: string, sequence: bigint, seen: bigint) {
    super(
      'E_IPNS_ROLLBACK',
      `IPFS registry ${registry}: ${ipnsName} resolved to sequence ${sequence}, below ${seen} already seen`,
      {
        details: { registry, ipnsName, sequence: String(sequence), seen: String(seen) },
        hint: 'A root older than one already published is refused. If the datastore was restored from a backup, remove the index so it is rebuilt from the IPNS root it now holds.',
      },
    )
  }
}

/** A followed publisher's record is larger than the registry accepts; refused before it is parsed. */
export class IpfsRecordTooLargeError extends MeshError {
  override name = 'IpfsRecordTooLargeError'
  constructor(registry: string, where: string, size: number, max: number) {
    super('E_IPFS_RECORD_TOO_LARGE', `IPFS registry ${registry}: ${where} is ${size} bytes, over ${max}`, {
      details: { registry, where, size, max },
      hint: 'The publisher holds a file too large to be a record; it is not fetched. Ask the publisher to fix it, or stop following that name.',
    })
  }
}

/** No followed publisher could be asked for a name (unreachable, stalled past the deadline, a bad IPNS record). */
export class IpfsFollowError extends MeshError {
  override name = 'IpfsFollowError'
  constructor(registry: string, name: string, failures: readonly { publisher: string; reason: string }[]) {
    super(
      'E_IPFS_FOLLOW_UNREACHABLE',
      `IPFS registry ${registry} could not look up ${name} at any followed publisher: ${failures
        .map((f) => `${f.publisher} (${f.reason})`)
        .join('; ')}`,
      {
        details: { registry, name, failures: failures.map((f) => ({ ...f })) },
        hint: "Check that a peer holding the publisher's IPNS record and blocks is connected (network.bootstrap), or give the lookup a longer deadline (followTimeoutMs).",
      },
    )
  }
}

/** Why a name or a tree entry cannot be a path in the registry's tree. */
export type IpfsPathProblem =
  | 'absolute'
  | 'empty-segment'
  | 'dot-segment'
  | 'encoded-separator'
  | 'backslash'
  | 'control-character'
  | 'not-a-name-segment'
  | 'too-many-segments'

/** A name (or a link name in a tree) that would escape the registry's tree or not map back to one name. */
export class IpfsPathError extends MeshError {
  override name = 'IpfsPathError'
  constructor(registry: string, path: string, problem: IpfsPathProblem, segment?: string) {
    super(
      'E_IPFS_PATH_INVALID',
      `IPFS registry ${registry}: ${JSON.stringify(path)} is not a path in the registry's tree (${problem}${
        segment === undefined ? '' : ` at ${JSON.stringify(segment)}`
      })`,
      {
        details: { registry, path, problem, ...(segment === undefined ? {} : { segment }) },
        hint: 'Use a function name `namespace/path` (lowercase letters, digits, `.`, `-`, `_`; no `..`, `/` at the start, `%`-escapes or backslashes). A tree entry like this one is skipped, never served.',
      },
    )
  }
}

/** A directory in a tree the registry walks is larger than it accepts (one block's bytes, or blocks walked). */
export class IpfsDirectoryTooLargeError extends MeshError {
  override name = 'IpfsDirectoryTooLargeError'
  constructor(
    registry: string,
    where: string,
    measure: 'block bytes' | 'blocks walked' | 'entries',
    size: number,
    max: number,
  ) {
    super(
      'E_IPFS_DIRECTORY_TOO_LARGE',
      `IPFS registry ${registry}: ${where} has ${size} ${measure}, over ${max}`,
      {
        details: { registry, where, measure, size, max },
        hint:
          measure === 'blocks walked'
            ? 'The path to the record runs through more directory blocks than a well-formed tree needs; the publisher may be hostile. Raise maxWalkBlocks only if you trust it.'
            : 'A directory this large is refused before it is decoded (a well-formed registry tree shards a directory into a HAMT long before this). Raise maxDirectoryBytes (or maxTreeEntries for a rebuild) only for a tree you trust.',
      },
    )
  }
}

/** An IPNS record that cannot be used: undecodable, failing validation, or naming no `/ipfs/<CID>` root. */
export class IpnsRecordInvalidError extends MeshError {
  override name = 'IpnsRecordInvalidError'
  constructor(registry: string, ipnsName: string, reason: string, own: boolean, cause?: unknown) {
    super('E_IPNS_RECORD_INVALID', `IPFS registry ${registry}: the IPNS record of ${ipnsName} ${reason}`, {
      details: { registry, ipnsName, reason, own },
      hint: own
        ? "The registry's own IPNS record in its datastore (the folder datastore/dht) is damaged. Restore the directory from a backup; removing the record makes the next publish restart its sequence at 1, which followers refuse as a rollback."
        : 'The publisher published a record the registry cannot use (or a peer returned a damaged one). Ask the publisher to publish its root again, or stop following that name.',
      cause,
    })
  }
}
