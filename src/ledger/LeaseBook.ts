import { randomUUID } from 'node:crypto'
import type BetterSqlite3 from 'better-sqlite3'
import type { Clock } from '../clock.js'
import {
  LeaseBudgetExceededError,
  LeaseCapabilityError,
  LeaseExpiredError,
  LeaseInvalidError,
  LeaseNotFoundError,
} from '../errors/ledger.js'
import { compileNamePattern } from '../registry/namePattern.js'

/** What `mesh.leases.grant` takes. */
export interface LeaseGrant {
  /** Function-name globs the lease may call (`acme.com/**`, `acme.com/image/*`). */
  capabilities: readonly string[]
  /** Budget per currency in integer base units (`{ USDC: 1_000_000n }`); decimal strings are accepted. */
  budgets: Readonly<Record<string, bigint | string>>
  /** When the lease stops working, epoch ms or a Date. Give this or `ttlMs`. */
  expiresAt?: number | Date
  /** Lifetime from now, in ms. */
  ttlMs?: number
  /** A caller-chosen id; a random one otherwise. */
  id?: string
}

/** One currency's state in a lease. All amounts are integer base units. */
export interface LeaseBalance {
  readonly budget: bigint
  /** Settled charges. */
  readonly spent: bigint
  /** Held by calls in flight. */
  readonly reserved: bigint
  /** `budget - spent - reserved`: what a new call may reserve. */
  readonly available: bigint
}

/** A lease as `mesh.leases.get` reports it. */
export interface LeaseInfo {
  readonly id: string
  readonly capabilities: readonly string[]
  readonly expiresAt: number
  readonly revoked: boolean
  readonly balances: Readonly<Record<string, LeaseBalance>>
}

/** `mesh.leases`: grant, read and revoke, each write committed before it resolves. */
export interface LeaseFacade {
  grant(grant: LeaseGrant): Promise<LeaseInfo>
  get(id: string): LeaseInfo
  /** Every lease, revoked and expired ones included, in the order they were granted. */
  list(): LeaseInfo[]
  revoke(id: string): Promise<void>
}

/** Cost held against a lease for one attempt; settled with the charge or released on failure. */
export interface Reservation {
  readonly lease: string
  /** `null` when the provider is free: nothing is held, only the lease's capability and expiry were checked. */
  readonly currency: string | null
  readonly amount: bigint
  done: boolean
}

interface Balance {
  budget: bigint
  spent: bigint
  reserved: bigint
}

interface LeaseState {
  id: string
  capabilities: readonly string[]
  match: (name: string) => boolean
  expiresAt: number
  revoked: boolean
  balances: Map<string, Balance>
}

const CURRENCY = /^[A-Za-z0-9._-]{1,16}$/
const LEASE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Lease budgets, held in memory (the ledger has one writer, so a check-and-reserve is one synchronous
 * step and concurrent calls can never overspend) and persisted as `spent` totals in the same
 * transaction as the charges that move them. Reservations live only in memory: after a crash the
 * calls that held them are closed as failed and were never charged.
 */
export class LeaseBook {
  private readonly leases = new Map<string, LeaseState>()
  private readonly insertLease: BetterSqlite3.Statement
  private readonly insertBalance: BetterSqlite3.Statement
  private readonly revokeLease: BetterSqlite3.Statement
  private readonly updateSpent: BetterSqlite3.Statement

  constructor(
    db: BetterSqlite3.Database,
    private readonly clock: Clock,
  ) {
    this.insertLease = db.prepare(
      'INSERT INTO leases (id, capabilities, expires_at, revoked, created_at) VALUES (?, ?, ?, 0, ?)',
    )
    this.insertBalance = db.prepare(
      'INSERT INTO balances (lease, currency, budget, spent) VALUES (?, ?, ?, ?)',
    )
    this.revokeLease = db.prepare('UPDATE leases SET revoked = 1 WHERE id = ?')
    this.updateSpent = db.prepare('UPDATE balances SET spent = ? WHERE lease = ? AND currency = ?')
    const rows = db
      .prepare('SELECT id, capabilities, expires_at, revoked FROM leases ORDER BY created_at, id')
      .all() as {
      id: string
      capabilities: string
      expires_at: number
      revoked: number
    }[]
    const balances = db.prepare('SELECT lease, currency, budget, spent FROM balances').all() as {
      lease: string
      currency: string
      budget: string
      spent: string
    }[]
    for (const row of rows) {
      const capabilities = JSON.parse(row.capabilities) as string[]
      this.leases.set(row.id, {
        id: row.id,
        capabilities,
        match: matcher(capabilities),
        expiresAt: row.expires_at,
        revoked: row.revoked === 1,
        balances: new Map(),
      })
    }
    for (const b of balances) {
      this.leases
        .get(b.lease)
        ?.balances.set(b.currency, { budget: BigInt(b.budget), spent: BigInt(b.spent), reserved: 0n })
    }
  }

  /** Checks a grant and returns the state to add plus the write that persists it. */
  prepareGrant(grant: LeaseGrant): { info: LeaseInfo; write: () => void } {
    if (grant === null || typeof grant !== 'object')
      throw new LeaseInvalidError('(grant)', 'must be an object')
    const id = grant.id ?? `lease_${randomUUID()}`
    if (typeof id !== 'string' || !LEASE_ID.test(id))
      throw new LeaseInvalidError('id', 'must be 1-128 of letters, digits and . _ : -', id)
    if (this.leases.has(id)) throw new LeaseInvalidError('id', 'is already used by another lease', id)
    const capabilities = grant.capabilities
    if (!Array.isArray(capabilities) || capabilities.length === 0 || capabilities.length > 256)
      throw new LeaseInvalidError('capabilities', 'must be a list of 1-256 function-name globs')
    capabilities.forEach((c, i) => {
      try {
        compileNamePattern(c)
      } catch (err) {
        throw new LeaseInvalidError(`capabilities[${i}]`, (err as Error).message.split('\n')[0]!, c)
      }
    })
    const now = this.clock.now()
    let expiresAt: number
    if (grant.expiresAt !== undefined) {
      expiresAt = grant.expiresAt instanceof Date ? grant.expiresAt.getTime() : grant.expiresAt
      if (!Number.isSafeInteger(expiresAt))
        throw new LeaseInvalidError('expiresAt', 'must be a Date or epoch milliseconds', grant.expiresAt)
    } else if (grant.ttlMs !== undefined) {
      if (!Number.isSafeInteger(grant.ttlMs) || grant.ttlMs <= 0)
        throw new LeaseInvalidError('ttlMs', 'must be a positive integer', grant.ttlMs)
      expiresAt = now + grant.ttlMs
    } else {
      throw new LeaseInvalidError('expiresAt', 'or ttlMs is required: a lease always expires')
    }
    if (expiresAt <= now)
      throw new LeaseInvalidError('expiresAt', 'is in the past', new Date(expiresAt).toISOString())
    if (grant.budgets === null || typeof grant.budgets !== 'object')
      throw new LeaseInvalidError('budgets', 'must be an object of currency -> integer base units')
    const balances = new Map<string, Balance>()
    for (const [currency, raw] of Object.entries(grant.budgets)) {
      if (!CURRENCY.test(currency))
        throw new LeaseInvalidError(`budgets.${currency}`, 'currency must be 1-16 of letters, digits, . _ -')
      const budget = toBaseUnits(raw, `budgets.${currency}`)
      balances.set(currency, { budget, spent: 0n, reserved: 0n })
    }
    const state: LeaseState = {
      id,
      capabilities: [...capabilities],
      match: matcher(capabilities),
      expiresAt,
      revoked: false,
      balances,
    }
    this.leases.set(id, state)
    return {
      info: describe(state),
      write: () => {
        this.insertLease.run(id, JSON.stringify(state.capabilities), expiresAt, now)
        for (const [currency, b] of balances) this.insertBalance.run(id, currency, b.budget.toString(), '0')
      },
    }
  }

  /** Marks a lease revoked; returns the write that persists it. */
  prepareRevoke(id: string): () => void {
    const state = this.require(id)
    state.revoked = true
    return () => this.revokeLease.run(id)
  }

  get(id: string): LeaseInfo {
    return describe(this.require(id))
  }

  list(): LeaseInfo[] {
    return [...this.leases.values()].map(describe)
  }

  /** The public lease API over this book, persisting through the ledger's writer. */
  facade(enqueue: (write: () => void) => Promise<void>, assertOpen: () => void): LeaseFacade {
    return {
      grant: async (grant) => {
        assertOpen()
        const { info, write } = this.prepareGrant(grant)
        await enqueue(write)
        return info
      },
      get: (id) => this.get(id),
      list: () => this.list(),
      revoke: async (id) => {
        assertOpen()
        await enqueue(this.prepareRevoke(id))
      },
    }
  }

  /**
   * Checks that the lease is live and allows `name`, then holds `amount` of `currency` against it.
   * Throws before anything is called when the budget cannot cover it.
   */
  reserve(id: string, name: string, currency: string | null, amount: bigint): Reservation {
    const state = this.require(id)
    if (state.revoked || this.clock.now() >= state.expiresAt)
      throw new LeaseExpiredError(id, state.expiresAt, state.revoked)
    if (!state.match(name)) throw new LeaseCapabilityError(id, name, state.capabilities)
    if (currency === null || amount === 0n) return { lease: id, currency, amount: 0n, done: false }
    const balance = state.balances.get(currency)
    const available = balance === undefined ? 0n : balance.budget - balance.spent - balance.reserved
    if (balance === undefined || available < amount)
      throw new LeaseBudgetExceededError(id, currency, amount, available)
    balance.reserved += amount
    return { lease: id, currency, amount, done: false }
  }

  /** Gives a reservation back (the attempt failed; nothing is charged). */
  release(reservation: Reservation): void {
    if (reservation.done) return
    reservation.done = true
    if (reservation.currency === null || reservation.amount === 0n) return
    const balance = this.leases.get(reservation.lease)?.balances.get(reservation.currency)
    if (balance !== undefined) balance.reserved -= reservation.amount
  }

  /**
   * Turns a reservation into spending of `actual` (at most the reserved amount: the invoker refuses
   * larger reported quantities) and returns the write that persists the new total.
   */
  settle(reservation: Reservation, actual: bigint): (() => void) | undefined {
    if (reservation.done) throw new Error('reservation settled twice')
    reservation.done = true
    if (reservation.currency === null) return undefined
    const balance = this.leases.get(reservation.lease)?.balances.get(reservation.currency)
    if (balance === undefined) return undefined
    balance.reserved -= reservation.amount
    balance.spent += actual
    const spent = balance.spent.toString()
    const { lease, currency } = reservation
    return () => this.updateSpent.run(spent, lease, currency)
  }

  private require(id: string): LeaseState {
    const state = typeof id === 'string' ? this.leases.get(id) : undefined
    if (state === undefined) throw new LeaseNotFoundError(String(id))
    return state
  }
}

function matcher(capabilities: readonly string[]): (name: string) => boolean {
  const matchers = capabilities.map((c) => compileNamePattern(c))
  return (name) => matchers.some((m) => m(name))
}

function describe(state: LeaseState): LeaseInfo {
  const balances: Record<string, LeaseBalance> = {}
  for (const [currency, b] of state.balances) {
    balances[currency] = {
      budget: b.budget,
      spent: b.spent,
      reserved: b.reserved,
      available: b.budget - b.spent - b.reserved,
    }
  }
  return {
    id: state.id,
    capabilities: state.capabilities,
    expiresAt: state.expiresAt,
    revoked: state.revoked,
    balances,
  }
}

/** An integer count of base units from a bigint or a decimal string; never a float. */
export function toBaseUnits(raw: unknown, field: string): bigint {
  if (typeof raw === 'bigint') {
    if (raw < 0n) throw new LeaseInvalidError(field, 'must not be negative', raw)
    return raw
  }
  if (typeof raw === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(raw)) return BigInt(raw)
  if (typeof raw === 'number')
    throw new LeaseInvalidError(
      field,
      'must be a bigint or a decimal string, never a number (floats lose money)',
      raw,
    )
  throw new LeaseInvalidError(field, 'must be a non-negative integer (bigint or decimal string)', raw)
}
