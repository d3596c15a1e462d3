import {
  type FetchRequest,
  type JsonRpcApiProviderOptions,
  type JsonRpcError,
  type JsonRpcPayload,
  JsonRpcProvider,
  makeError,
  type Networkish,
} from 'ethers'

/**
 * A JSON-RPC provider that sends each request as soon as it is made. ethers' `JsonRpcApiProvider`
 * queues every request and sends the queue from a timer; with `batchMaxCount: 1` (one request per
 * HTTP body, as this registry configures) that timer is a `setTimeout(0)`, which Node runs no sooner
 * than 1 ms later: a millisecond added to every lookup, receipt poll and log read, for a batch that
 * can never form. This one posts at once through the same `_send` (the same HTTP connection, body
 * and headers) and turns an error answer into the same ethers error (`getRpcError`), so reverts
 * decode and failures classify exactly as before.
 *
 * @example
 * ```ts
 * const provider = new ImmediateJsonRpcProvider(rpcUrl, Network.from(31337), { staticNetwork: true, batchMaxCount: 1 })
 * const code = await provider.getCode(address) // one POST, no timer before it
 * ```
 */
export class ImmediateJsonRpcProvider extends JsonRpcProvider {
  #nextId = 1

  constructor(url: string | FetchRequest, network: Networkish, options: JsonRpcApiProviderOptions) {
    super(url, network, { ...options, batchMaxCount: 1 })
  }

  override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    // A destroyed provider refuses requests as ethers' own does (the same error).
    if (this.destroyed) return super.send(method, params as unknown[])
    await this._start()
    const payload: JsonRpcPayload = {
      method,
      params: params as unknown[],
      id: this.#nextId++,
      jsonrpc: '2.0',
    }
    const results = await this._send(payload)
    if (this.destroyed) return super.send(method, params as unknown[])
    const answer = results.find((r) => r.id === payload.id)
    if (answer === undefined)
      throw makeError('missing response for request', 'BAD_DATA', { value: results, info: { payload } })
    if ('error' in answer) throw this.getRpcError(payload, answer as JsonRpcError)
    return answer.result
  }
}
