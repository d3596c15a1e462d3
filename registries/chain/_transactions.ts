import type { Contract, ContractTransactionResponse } from 'ethers'
import { raceSignal, throwIfAborted } from '../../src/abort.js'
import { isMeshError } from '../../src/errors/base.js'
import { RegistryError } from '../../src/errors/registry.js'
import type { Logger } from '../../src/logger.js'
import type { ChainEvents } from './_chainEvents.js'
import { type Connection, rpcError } from './_connection.js'
import { decodeRevert, type RevertContext, revertError } from './_reverts.js'
import { isRpcFailure, reasonOf } from './_rpcFailure.js'
import { ChainRpcError } from './errors.js'

/** Resolves after `ms`, or rejects with AbortedError when `signal` fires first. */
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>()
  const timer = setTimeout(resolve, ms)
  return raceSignal(promise, signal, 'waiting for confirmations').finally(() => clearTimeout(timer))
}

import type { ChainTransaction } from './types.js'

/** Builds one contract call on the signer-connected contract. */
export type BuildTransaction = (contract: Contract) => Promise<ContractTransactionResponse>

/**
 * Sends a registry's transactions one at a time (a signer's nonce is read from the node, and two
 * sends at once would read the same one), waits for each receipt and `confirmations`, then reads the
 * new events so the registry's caches and watchers see the change.
 */
export class Transactions {
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly registryId: string,
    private readonly confirmations: number,
    private readonly log: Logger,
    /** How often a wait for confirmations asks for the head. */
    private readonly pollMs = 250,
  ) {}

  send(
    ready: { conn: Connection; events: ChainEvents },
    ctx: RevertContext,
    build: BuildTransaction,
    signal: AbortSignal | undefined,
  ): Promise<ChainTransaction> {
    const what = `${this.registryId} ${ctx.operation}`
    throwIfAborted(signal, what)
    const { conn, events } = ready
    const contract = conn.contract.connect(conn.signer!) as Contract
    const fail = (err: unknown): never => {
      if (isMeshError(err)) throw err
      const revert = decodeRevert(conn.contract.interface, err)
      if (revert !== undefined) throw revertError(revert, ctx, err)
      if (isRpcFailure(err)) throw new ChainRpcError(conn.rpcUrl, ctx.operation, reasonOf(err), err)
      throw new RegistryError(this.registryId, ctx.operation, reasonOf(err), err)
    }
    const sent = this.tail.then(() => build(contract))
    this.tail = sent.catch(() => undefined)
    const work = (async () => {
      const tx = await sent.catch(fail)
      const receipt = await tx.wait(1).catch(fail)
      if (receipt === null)
        throw new RegistryError(this.registryId, ctx.operation, 'the transaction was dropped')
      if (this.confirmations > 0)
        await this.confirm(events, conn, receipt.hash, receipt.blockNumber, ctx, signal)
      await events
        .sync()
        .catch((err: unknown) => this.log.error('reading events after %s: %s', ctx.operation, reasonOf(err)))
      return { transactionHash: receipt.hash, blockNumber: receipt.blockNumber }
    })()
    return raceSignal(work, signal, what)
  }

  /**
   * Waits until `confirmations` blocks are on top of the receipt's (or the node mines on transactions
   * only: see ChainEvents.confirmedHead), then checks the receipt is still in the chain.
   */
  private async confirm(
    events: ChainEvents,
    conn: Connection,
    hash: string,
    blockNumber: number,
    ctx: RevertContext,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (;;) {
      throwIfAborted(signal, `${this.registryId} ${ctx.operation}`)
      let head: number
      try {
        head = await conn.provider.getBlockNumber()
      } catch (err) {
        throw rpcError(conn.rpcUrl, `wait for confirmations of ${hash}`, err)
      }
      if ((await events.confirmedHead(head)) >= blockNumber) break
      await abortableDelay(this.pollMs, signal)
    }
    const receipt = await conn.provider.getTransactionReceipt(hash).catch((err: unknown) => {
      throw rpcError(conn.rpcUrl, `read the receipt of ${hash}`, err)
    })
    if (receipt === null || receipt.blockNumber !== blockNumber)
      throw new RegistryError(
        this.registryId,
        ctx.operation,
        `transaction ${hash} left block ${blockNumber} in a reorg before ${this.confirmations} confirmations; send it again`,
      )
  }

  /** Waits for the sends under way. */
  async drain(): Promise<void> {
    await this.tail.catch(() => undefined)
  }
}
