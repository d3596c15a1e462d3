import { join } from 'node:path'
import type { Clock } from '../clock.js'
import { defaultDataDir } from '../dataDir.js'
import { InvalidArgumentError, MeshClosedError } from '../errors/mesh.js'
import { ConfigError } from '../errors/registry.js'
import type { MeshEvents } from '../events.js'
import { billingFacade, type MeshBilling } from '../ledger/billingFacade.js'
import type { Ledger } from '../ledger/Ledger.js'
import { leasesFacade, type MeshLeases } from '../ledger/leasesFacade.js'
import { lineageFacade, type MeshLineage } from '../ledger/lineageFacade.js'
import type { LedgerInit } from '../ledger/types.js'
import type { Marketplace } from '../marketplace/Marketplace.js'
import type { Provider } from '../record/schema.js'
import type { ResolveResult } from '../resolve/types.js'
import type { SelectResult } from '../select/types.js'
import { httpTransport } from '../transport/httpTransport.js'
import { localTransport } from '../transport/localTransport.js'
import type { Transport } from '../transport/types.js'
import { dispatchEvent } from './dispatch.js'
import { createInvoker, type Invoker } from './Invoker.js'
import type { RetryBudgetOptions } from './RetryBudget.js'
import type { CallOptions, CallResult, Choice, DispatchResult, HealthHook } from './types.js'

// The facades live with the ledger; src/index.ts and src/mesh.ts still name them from here.
export type { MeshBilling, MeshLeases, MeshLineage }

/** The ledger part of `createMesh` options. */
export type LedgerOptions = Omit<LedgerInit, 'path' | 'clock'> & {
  /** The SQLite file. @default `<dataDir>/ledger.sqlite` */
  path?: string
}

/** Invocation tuning in `createMesh` options. */
export interface InvokeOptions {
  /** The principal of calls that do not name one. @default 'local' */
  principal?: string
  retryBudget?: RetryBudgetOptions
  /** Largest provider response read. @default 1048576 */
  maxResponseBytes?: number
  /** Deadline of calls when neither the call nor the descriptor sets one. @default 30000 */
  defaultTimeoutMs?: number
}

export interface MeshInvocationInit {
  marketplace: Marketplace
  /** Resolves the name and selects a provider (the mesh's resolve + selector). */
  select(name: string, options: CallOptions): Promise<{ resolved: ResolveResult; selection: SelectResult }>
  health?: HealthHook | undefined
  clock: Clock
  ledger?: LedgerOptions | undefined
  dataDir?: string | undefined
  transports?: readonly Transport[] | undefined
  invoke?: InvokeOptions | undefined
  /** Where each finished call is reported (`call` events). */
  events?: MeshEvents | undefined
}

/** Turns a selection into the invoker's plan: the chosen provider first, then the others in the strategy's order. */
export function choiceOf(resolved: ResolveResult, selection: SelectResult): Choice {
  let providers: readonly Provider[]
  if (selection.candidates.length <= 2 || selection.ranked === undefined) {
    const inOrder = [selection.provider]
    for (const c of selection.candidates) if (c.provider !== selection.provider) inOrder.push(c.provider)
    providers = inOrder
  } else providers = selection.ranked()
  return {
    name: selection.name,
    version: selection.version,
    descriptor: selection.descriptor,
    recordId: resolved.recordId,
    providers,
    reason: selection.reason,
  }
}

/**
 * Everything `mesh.call` needs, kept out of `mesh.ts`: the transports, the invoker, and the ledger,
 * opened on first use so a mesh that never calls never touches the disk.
 */
export class MeshInvocation {
  readonly lineage: MeshLineage
  readonly billing: MeshBilling
  readonly leases: MeshLeases
  private readonly invoker: Invoker
  private readonly transports: Transport[]
  private readonly observed: Pick<Invoker, 'call'>
  private readonly ledgerInit: LedgerInit
  private opening: Promise<Ledger> | undefined
  private closed = false

  constructor(private readonly init: MeshInvocationInit) {
    const options = init.ledger ?? {}
    if (options === null || typeof options !== 'object') throw new ConfigError('ledger', 'must be an object')
    if (options.path !== undefined && (typeof options.path !== 'string' || options.path === ''))
      throw new ConfigError('ledger.path', 'must be a file path')
    if (init.dataDir !== undefined && (typeof init.dataDir !== 'string' || init.dataDir === ''))
      throw new ConfigError('dataDir', 'must be a directory path')
    if (init.transports !== undefined && !Array.isArray(init.transports))
      throw new ConfigError('transports', 'must be an array of transports')
    init.transports?.forEach((t, i) => {
      if (
        t === null ||
        typeof t !== 'object' ||
        typeof t.handles !== 'function' ||
        typeof t.call !== 'function'
      )
        throw new ConfigError(`transports[${i}]`, 'is not a transport (needs handles and call)')
    })
    this.ledgerInit = {
      ...options,
      path: options.path ?? join(init.dataDir ?? defaultDataDir(), 'ledger.sqlite'),
      clock: init.clock,
    }
    this.transports = [...(init.transports ?? []), localTransport(init.marketplace), httpTransport()]
    this.invoker = createInvoker({
      ledger: () => this.ledger(),
      choose: async (name, callOptions) => {
        const budgeted = await this.withLeaseBudget(callOptions)
        try {
          const { resolved, selection } = await init.select(name, budgeted)
          return choiceOf(resolved, selection)
        } catch (err) {
          // The lease can pay for none of them: choose as without it, so the reservation refuses
          // the call with E_BUDGET_EXCEEDED, which says what the lease lacks.
          if (budgeted === callOptions || (err as { code?: unknown })?.code !== 'E_OVER_BUDGET') throw err
          const { resolved, selection } = await init.select(name, callOptions)
          return choiceOf(resolved, selection)
        }
      },
      transports: this.transports,
      health: init.health,
      clock: init.clock,
      principal: init.invoke?.principal,
      retryBudget: init.invoke?.retryBudget,
      maxResponseBytes: init.invoke?.maxResponseBytes,
      defaultTimeoutMs: init.invoke?.defaultTimeoutMs,
    })
    this.observed = { call: (name, input, options) => this.observe(name, input, options) }
    this.lineage = lineageFacade(() => this.ledger())
    this.billing = billingFacade(() => this.ledger())
    this.leases = leasesFacade(() => this.ledger())
  }

  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>> {
    return this.observe<O>(name, input, options)
  }

  dispatch(kind: string, event: unknown, options?: Omit<CallOptions, 'trigger'>): Promise<DispatchResult[]> {
    return dispatchEvent(this.observed, this.init.marketplace, kind, event, options)
  }

  /**
   * Adds a transport (a service's: the peer node's `libp2p:`), asked before the built-in ones;
   * returns the function that removes it. The mesh stops it when it closes.
   */
  addTransport(transport: Transport): () => void {
    if (
      transport === null ||
      typeof transport !== 'object' ||
      typeof transport.handles !== 'function' ||
      typeof transport.call !== 'function'
    )
      throw new InvalidArgumentError('addTransport', 'transport', 'a transport (handles and call)', transport)
    if (this.closed) throw new MeshClosedError('add a transport')
    this.transports.unshift(transport)
    return () => {
      const at = this.transports.indexOf(transport)
      if (at !== -1) this.transports.splice(at, 1)
    }
  }

  /** Calls through the invoker and reports the outcome as a `call` event when someone listens. */
  private observe<O>(name: string, input: unknown, options?: CallOptions): Promise<CallResult<O>> {
    const events = this.init.events
    if (events === undefined || !events.has('call')) return this.invoker.call<O>(name, input, options)
    const clock = this.init.clock
    const started = clock.now()
    const principal = options?.principal ?? this.init.invoke?.principal ?? 'local'
    const bare = String(name).split('@')[0]!
    return this.invoker.call<O>(name, input, options).then(
      (result) => {
        events.emit('call', {
          name: bare,
          outcome: 'ok',
          principal,
          version: result.version,
          providerId: result.provider.id,
          endpoint: result.provider.endpoint,
          invocationId: result.invocationId,
          attempts: result.attempts,
          replayed: result.replayed,
          charge: { amount: String(result.charge.amount), currency: result.charge.currency ?? 'free' },
          durationMs: clock.now() - started,
        })
        return result
      },
      (err: unknown) => {
        const e = err as { code?: unknown; message?: unknown; invocationId?: unknown }
        events.emit('call', {
          name: bare,
          outcome: 'error',
          principal,
          ...(typeof e?.code === 'string' ? { code: e.code } : {}),
          ...(typeof e?.message === 'string' ? { message: e.message.split('\n')[0]! } : {}),
          durationMs: clock.now() - started,
        })
        throw err
      },
    )
  }

  /**
   * A call on a single-currency lease selects only among providers the lease can still pay for
   * (its available balance as the selection's `maxCost`), so a load-balancing or fastest strategy
   * never picks one whose reservation must fail while a cheaper one would do. A lease that is
   * unknown, expired or spans currencies is left for the reservation to refuse with its own error.
   */
  private async withLeaseBudget(options: CallOptions): Promise<CallOptions> {
    if (options.lease === undefined || options.select?.maxCost !== undefined) return options
    let balances: Readonly<Record<string, { available: bigint }>>
    try {
      balances = (await this.leases.get(options.lease)).balances
    } catch {
      return options
    }
    const currencies = Object.keys(balances)
    if (currencies.length !== 1) return options
    const unit = currencies[0]!
    const perCall = balances[unit]!.available / (options.maxQuantity ?? 1n)
    return { ...options, select: { ...options.select, maxCost: { unit, baseUnits: String(perCall) } } }
  }

  /** The ledger, opened (with crash recovery) on first use. */
  ledger(): Promise<Ledger> {
    if (this.closed) return Promise.reject(new MeshClosedError('use the ledger'))
    if (this.opening === undefined) {
      // Loaded on first use: a mesh that only resolves never loads SQLite.
      this.opening = import('../ledger/Ledger.js').then(({ openLedger }) => openLedger(this.ledgerInit))
      this.opening.catch(() => {
        this.opening = undefined
      })
    }
    return this.opening
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const opening = this.opening
    this.opening = undefined
    for (const t of this.transports) await t.stop?.()
    if (opening !== undefined) await (await opening.catch(() => undefined))?.close()
  }
}
