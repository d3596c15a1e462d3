import { type ChildProcess, spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { AbortedError } from '../../src/errors/resolve.js'
import { logger } from '../../src/logger.js'
import { bundledAnvilBinary } from './_anvilBinary.js'
import { AnvilBanner, type DevAccount } from './_anvilOutput.js'
import { ChainNodeError } from './errors.js'

export type { DevAccount } from './_anvilOutput.js'

/** Chain id the local node runs with. @default 31337 */
export const DEFAULT_ANVIL_CHAIN_ID = 31337
/** How long anvil may take to print where it listens before start fails. @default 10000 */
export const DEFAULT_ANVIL_START_TIMEOUT_MS = 10_000
/** How long stop() waits after SIGTERM before SIGKILL. @default 2000 */
export const DEFAULT_ANVIL_STOP_TIMEOUT_MS = 2_000

export interface StartAnvilOptions {
  /** Path of the anvil executable. Default: the binary shipped by `@foundry-rs/anvil`. */
  binary?: string
  /** @default DEFAULT_ANVIL_CHAIN_ID */
  chainId?: number
  /** @default DEFAULT_ANVIL_START_TIMEOUT_MS */
  startTimeoutMs?: number
  /** More anvil flags (e.g. `['--hardfork', 'prague']`); host and port are always 127.0.0.1:0. */
  args?: readonly string[]
  signal?: AbortSignal
}

/** A running local EVM node on 127.0.0.1. */
export interface AnvilNode {
  readonly rpcUrl: string
  readonly chainId: number
  /** The funded dev accounts anvil prints at start (the well-known test mnemonic's). */
  readonly accounts: readonly DevAccount[]
  readonly pid: number
  /** Stops the node (SIGTERM, then SIGKILL); idempotent. */
  stop(): Promise<void>
}

const log = logger('chain:anvil')

/**
 * Starts anvil on 127.0.0.1 on a free port and waits until it listens. The node is stopped by
 * `stop()`, and killed when this process exits.
 *
 * @example
 * ```ts
 * const node = await startAnvil()
 * const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 })
 * await node.stop()
 * ```
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilNode> {
  const binary = resolveBinary(options.binary)
  const chainId = options.chainId ?? DEFAULT_ANVIL_CHAIN_ID
  if (options.signal?.aborted) throw new AbortedError('starting anvil', options.signal.reason)
  const args = ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId), ...(options.args ?? [])]
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  try {
    const banner = await waitForBanner(child, binary, options)
    const rpcUrl = `http://127.0.0.1:${banner.port}`
    log('anvil %d listening on %s', child.pid, rpcUrl)
    detach(child)
    return {
      rpcUrl,
      chainId,
      accounts: banner.accounts(),
      pid: child.pid!,
      stop: () => stopChild(child, killOnExit),
    }
  } catch (err) {
    await stopChild(child, killOnExit)
    throw err
  }
}

function resolveBinary(binary: string | undefined): string {
  if (binary !== undefined) return binary
  const bundled = bundledAnvilBinary()
  if ('binary' in bundled) return bundled.binary
  throw new ChainNodeError(
    'anvil',
    `is not available: ${bundled.missing}`,
    'Install the optional dependency: `npm install @foundry-rs/anvil`, or pass `binary` (a path to anvil), or point the chain registry at a JSON-RPC URL.',
  )
}

function waitForBanner(
  child: ChildProcess,
  binary: string,
  options: StartAnvilOptions,
): Promise<AnvilBanner> {
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_ANVIL_START_TIMEOUT_MS
  const banner = new AnvilBanner()
  const stderr: string[] = []
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const done = (err: Error | undefined) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      lines.close()
      child.stderr!.off('data', onStderr)
      child.off('error', onError)
      child.off('exit', onExit)
      if (err === undefined) resolve(banner)
      else reject(err)
    }
    const onError = (err: NodeJS.ErrnoException) =>
      done(
        new ChainNodeError(
          binary,
          `could not be started (${err.code ?? err.message})`,
          'Check the path and that the file is an executable anvil for this platform.',
          err,
        ),
      )
    const onExit = (code: number | null, signal: string | null) =>
      done(
        new ChainNodeError(
          binary,
          `exited before listening (${signal ?? `code ${code}`}): ${stderr.join('').trim().slice(-500) || 'no output'}`,
          'Run the binary with the same flags by hand to see why; a flag in `args` may be wrong.',
        ),
      )
    const onStderr = (chunk: Buffer) => stderr.push(chunk.toString('utf8'))
    const onAbort = () => done(new AbortedError('starting anvil', options.signal?.reason))
    const timer = setTimeout(
      () =>
        done(
          new ChainNodeError(
            binary,
            `did not listen within ${timeoutMs} ms`,
            'The machine may be overloaded; raise `startTimeoutMs`, or check that this binary is anvil.',
          ),
        ),
      timeoutMs,
    )
    child.stderr!.on('data', onStderr)
    child.once('error', onError)
    child.once('exit', onExit)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    lines.on('line', (line) => {
      if (banner.read(line)) done(undefined)
    })
  })
}

/** After start: keep draining anvil's output (a full pipe would stall it) without holding this process open. */
function detach(child: ChildProcess): void {
  child.stdout!.resume()
  child.stderr!.resume()
  child.unref()
  ;(child.stdout as Socket).unref()
  ;(child.stderr as Socket).unref()
}

async function stopChild(child: ChildProcess, killOnExit: () => void): Promise<void> {
  process.off('exit', killOnExit)
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve()
    }, DEFAULT_ANVIL_STOP_TIMEOUT_MS)
  })
  await Promise.race([exited, forced])
  clearTimeout(timer)
  await exited
}
