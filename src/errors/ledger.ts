import { MeshError } from './base.js'

/** The ledger database could not be opened or prepared. */
export class LedgerOpenError extends MeshError {
  override name = 'LedgerOpenError'
  constructor(path: string, reason: string, cause?: unknown) {
    super('E_LEDGER_OPEN', `Cannot open the ledger at ${path}: ${reason}`, {
      details: { path },
      hint: 'Check that the directory exists and is writable, or set `ledger.path` to another file.',
      cause,
    })
  }
}

/** A read of the ledger (`fmesh lineage`) where no ledger exists yet: nothing was ever called here. */
export class LedgerMissingError extends MeshError {
  override name = 'LedgerMissingError'
  constructor(path: string) {
    super('E_LEDGER_MISSING', `No ledger at ${path}: no call was made with this data dir`, {
      details: { path },
      hint: 'Make a call first (`fmesh call NAME`), or point --config at the data dir that has the ledger.',
    })
  }
}

/** The ledger file was written with another version of the ledger's tables. */
export class LedgerSchemaError extends MeshError {
  override name = 'LedgerSchemaError'
  constructor(path: string, found: string, expected: number) {
    super(
      'E_LEDGER_SCHEMA',
      `The ledger at ${path} was written with ledger schema ${found}; this version reads schema ${expected}`,
      {
        details: { path, found, expected },
        hint: 'Nothing was changed in the file. Read or verify it with the function-mesh version that wrote it, or move it aside (or set `ledger.path`) to start a new ledger.',
      },
    )
  }
}

/** Another process (or another mesh in this one) holds the ledger file. */
export class LedgerLockedError extends MeshError {
  override name = 'LedgerLockedError'
  constructor(path: string, cause?: unknown) {
    super('E_LEDGER_LOCKED', `The ledger at ${path} is in use by another mesh`, {
      details: { path },
      hint: 'One process owns a ledger file at a time: wait for the other command or node to finish, or stop it, or give this one its own data dir (`dataDir` in fmesh.json; `ledger.path` in createMesh).',
      cause,
    })
  }
}

/**
 * A write (a call, a lease, a checkpoint) asked of a ledger opened read-only: read-only opens
 * (`readOnly: true`, what `fmesh usage`, `calls` and `lineage` use) never write the file.
 */
export class LedgerReadOnlyError extends MeshError {
  override name = 'LedgerReadOnlyError'
  constructor(path: string, action: string) {
    super('E_LEDGER_READ_ONLY', `Cannot ${action}: the ledger at ${path} is open read-only`, {
      details: { path, action },
      hint: 'Open the ledger without `readOnly` to write to it; read-only opens only read committed entries.',
    })
  }
}

/** The checkpoint key file can be read or changed by others than its owner; the ledger refuses it. */
export class LedgerKeyPermissionsError extends MeshError {
  override name = 'LedgerKeyPermissionsError'
  constructor(keyPath: string, mode: number) {
    const octal = `0${mode.toString(8)}`
    super(
      'E_LEDGER_KEY_PERMISSIONS',
      `The ledger key file ${keyPath} is mode ${octal}: users other than its owner can read or change it`,
      {
        details: { keyPath, mode: octal, expected: '0600' },
        hint: `Run \`chmod 600 ${keyPath}\` and open the ledger again. If others could read the file, treat the key as leaked.`,
      },
    )
  }
}

/** A ledger with history whose checkpoint key file is gone: a new key is never made for old history. */
export class LedgerKeyMissingError extends MeshError {
  override name = 'LedgerKeyMissingError'
  constructor(path: string, keyPath: string, keyIds: readonly string[]) {
    super(
      'E_LEDGER_KEY_MISSING',
      `The ledger at ${path} has entries but its checkpoint key file is missing`,
      {
        details: { path, keyPath, ...(keyIds.length === 0 ? {} : { signedBy: keyIds.join(', ') }) },
        hint: `Nothing was changed. Restore ${keyPath} from a backup, or pass the key as \`ledger.signer\`. A ledger never makes a new key for entries it already holds, so a copy of the file alone cannot be re-signed; if the key is lost, move the ledger aside to start a new one.`,
      },
    )
  }
}

/** The checkpoint key file is not a private ed25519 JWK (or cannot be read). */
export class LedgerKeyInvalidError extends MeshError {
  override name = 'LedgerKeyInvalidError'
  constructor(keyPath: string, reason: string, cause?: unknown) {
    super('E_LEDGER_KEY_INVALID', `The ledger key file ${keyPath} is not usable: ${reason}`, {
      details: { keyPath },
      hint: 'It must be a private ed25519 JWK, as `fmesh keys new --out FILE` writes one. Restore it from a backup.',
      cause,
    })
  }
}

/** A ledger written before key files still holds its key, and the key file holds another one. */
export class LedgerKeyConflictError extends MeshError {
  override name = 'LedgerKeyConflictError'
  constructor(path: string, keyPath: string, stored: string, inFile: string) {
    super(
      'E_LEDGER_KEY_CONFLICT',
      `The ledger at ${path} holds its checkpoint key ${stored}, but the key file holds another key`,
      {
        details: { path, keyPath, storedKeyId: stored, fileKeyId: inFile },
        hint: `Nothing was changed. Move ${keyPath} aside (or set \`ledger.keyPath\` to a file that does not exist) and open again: the ledger's key is then moved into that file.`,
      },
    )
  }
}

/** A batch of ledger writes failed to commit; the ledger refuses further writes until reopened. */
export class LedgerWriteError extends MeshError {
  override name = 'LedgerWriteError'
  constructor(path: string, cause?: unknown) {
    super('E_LEDGER_WRITE', `Writing to the ledger at ${path} failed`, {
      details: { path, reason: cause instanceof Error ? cause.message : String(cause) },
      hint: 'Check free disk space and permissions, then restart: recovery closes any call left open.',
      cause,
    })
  }
}

/** The ledger was used after `close()`. */
export class LedgerClosedError extends MeshError {
  override name = 'LedgerClosedError'
  constructor(path: string) {
    super('E_LEDGER_CLOSED', `The ledger at ${path} is closed`, {
      details: { path },
      hint: 'Create a new mesh (or reopen the ledger) before calling again.',
    })
  }
}

/** No lineage entry has the given id. */
export class LineageEntryNotFoundError extends MeshError {
  override name = 'LineageEntryNotFoundError'
  constructor(entryId: string) {
    super('E_LINEAGE_ENTRY_NOT_FOUND', `No lineage entry ${entryId}`, {
      details: { entryId },
      hint: 'Use an entry id from a call result (`result.lineage.completed`) or `fmesh lineage verify`.',
    })
  }
}

/** `verify()` found a lineage entry, link, charge or checkpoint that does not check out. */
export class LineageTamperedError extends MeshError {
  override name = 'LineageTamperedError'
  readonly seq: number | undefined
  readonly entryId: string | undefined
  constructor(what: string, reason: string, where: { seq?: number; entryId?: string; treeSize?: number }) {
    super('E_LINEAGE_TAMPERED', `Ledger verification failed at ${what}: ${reason}`, {
      details: { ...where },
      hint: 'The ledger file was altered or damaged after it was written. Restore it from a copy whose checkpoints verify.',
    })
    this.seq = where.seq
    this.entryId = where.entryId
  }
}

/** A lease id the ledger does not know. */
export class LeaseNotFoundError extends MeshError {
  override name = 'LeaseNotFoundError'
  constructor(leaseId: string) {
    super('E_LEASE_NOT_FOUND', `No lease ${leaseId}`, {
      details: { leaseId },
      hint: 'Grant one (`fmesh lease grant`, or `mesh.leases.grant(...)`) and pass its id (`fmesh call --lease ID`, or the `lease` call option).',
    })
  }
}

/** The lease has expired or was revoked. */
export class LeaseExpiredError extends MeshError {
  override name = 'LeaseExpiredError'
  constructor(leaseId: string, expiresAt: number, revoked: boolean) {
    super('E_LEASE_EXPIRED', `Lease ${leaseId} ${revoked ? 'was revoked' : 'has expired'}`, {
      details: { leaseId, expiresAt: new Date(expiresAt).toISOString(), revoked },
      hint: 'Grant a new lease.',
    })
  }
}

/** The lease does not grant the function being called. */
export class LeaseCapabilityError extends MeshError {
  override name = 'LeaseCapabilityError'
  constructor(leaseId: string, name: string, capabilities: readonly string[]) {
    super('E_LEASE_CAPABILITY', `Lease ${leaseId} does not allow calling ${name}`, {
      details: { leaseId, name, capabilities },
      hint: 'Call a function the lease names, or grant a lease whose capabilities match this name.',
    })
  }
}

/** The call's cost would take the lease past its budget; refused before the call started. */
export class LeaseBudgetExceededError extends MeshError {
  override name = 'LeaseBudgetExceededError'
  constructor(leaseId: string, currency: string, needed: bigint, available: bigint) {
    super(
      'E_BUDGET_EXCEEDED',
      `Lease ${leaseId} cannot cover ${needed} ${currency} (available ${available})`,
      {
        details: { leaseId, currency, needed: needed.toString(), available: available.toString() },
        hint: 'Nothing was called or charged. Grant a lease with a larger budget, or pick a cheaper provider.',
      },
    )
  }
}

/** A lease grant is malformed. */
export class LeaseInvalidError extends MeshError {
  override name = 'LeaseInvalidError'
  constructor(field: string, rule: string, value?: unknown) {
    super('E_LEASE_INVALID', `Invalid lease: ${field} ${rule}`, {
      details: { field, rule, ...(value === undefined ? {} : { value: String(value) }) },
      hint: 'For example `fmesh lease grant --capabilities "acme.com/**" --budget USDC=1000000 --ttl 1h`, or mesh.leases.grant({ capabilities: ["acme.com/**"], budgets: { USDC: 1000000n }, ttlMs: 3600000 }).',
    })
  }
}

/** A ledger query (usage, proof) got an argument it cannot use. */
export class LedgerQueryError extends MeshError {
  override name = 'LedgerQueryError'
  constructor(what: string, field: string, rule: string, value?: unknown) {
    super('E_LEDGER_QUERY', `Invalid ${what} argument ${field}: ${rule}`, {
      details: { field, rule, ...(value === undefined ? {} : { value: String(value) }) },
      hint: `Fix ${field} and try again.`,
    })
  }
}
