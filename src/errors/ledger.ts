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
      hint: 'One mesh owns a ledger file at a time: stop the other one, or give this mesh its own `ledger.path`.',
      cause,
    })
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
      hint: 'Grant a lease with `mesh.leases.grant(...)` and pass its id as the `lease` call option.',
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
      hint: 'Example: mesh.leases.grant({ capabilities: ["acme.com/**"], budgets: { USDC: 1000000n }, ttlMs: 3600000 })',
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
