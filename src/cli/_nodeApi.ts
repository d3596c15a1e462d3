import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { MeshError } from '../errors/base.js'
import { NodeUnreachableError } from '../errors/cli.js'
import { findConfig, loadConfig } from '../preset/config.js'
import { interrupt } from './_context.js'

/** What `fmesh node start` leaves in `DATA_DIR/node/api.json` (mode 0600) for the CLI to find it. */
export interface NodeApiFile {
  /** The node's control API (its HTTP gateway on 127.0.0.1). */
  url: string
  pid: number
  peerId: string
  /** The admin bearer token; the gateway keeps only its hash. */
  token: string
  startedAt: string
}

/** A live node on the data dir, as a command talks to it. */
export interface NodeClient {
  readonly peerId: string
  readonly url: string
  /** `via node <peerId>`: what a command says about the path it took. */
  readonly via: string
  /** A JSON request to the node; its error answers come back as the `MeshError` they were. */
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>
}

/** How long the node's API may take to answer the liveness check. */
const PROBE_TIMEOUT_MS = 5_000

export const nodeApiPath = (dataDir: string) => join(dataDir, 'node', 'api.json')

/** Writes api.json atomically, readable by its owner only. */
export async function writeNodeApi(dataDir: string, info: NodeApiFile): Promise<void> {
  const file = nodeApiPath(dataDir)
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
  await rename(tmp, file)
}

/** Removes api.json if it is still this process's (another node may have replaced it). */
export async function removeNodeApi(dataDir: string): Promise<void> {
  const found = await readNodeApi(dataDir)
  if (found !== undefined && found.pid === process.pid) await rm(nodeApiPath(dataDir), { force: true })
}

/** The api.json on the data dir, or `undefined` when there is none (or it is not one). */
export async function readNodeApi(dataDir: string): Promise<NodeApiFile | undefined> {
  let text: string
  try {
    text = await readFile(nodeApiPath(dataDir), 'utf8')
  } catch {
    return undefined
  }
  try {
    const v = JSON.parse(text) as Partial<NodeApiFile>
    if (
      typeof v.url === 'string' &&
      Number.isSafeInteger(v.pid) &&
      typeof v.peerId === 'string' &&
      typeof v.token === 'string'
    )
      return v as NodeApiFile
  } catch {}
  return undefined
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The node running on the data dir, or `undefined` with the reason: no api.json, a stale one (its
 * process is gone, or its API does not answer), which is never an error.
 */
export async function probeNode(
  dataDir: string,
): Promise<{ node: NodeClient; file: NodeApiFile } | { node: undefined; reason: string; stale: boolean }> {
  const file = await readNodeApi(dataDir)
  if (file === undefined) return { node: undefined, reason: 'no node/api.json', stale: false }
  const where = nodeApiPath(dataDir)
  if (!pidAlive(file.pid))
    return { node: undefined, reason: `stale ${where}: pid ${file.pid} is not running`, stale: true }
  try {
    const res = await fetch(new URL('/healthz', file.url), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    await res.body?.cancel()
  } catch {
    return { node: undefined, reason: `stale ${where}: nothing answers at ${file.url}`, stale: true }
  }
  return { node: nodeClient(file), file }
}

/**
 * The node a command goes through: the live node on the config's data dir, unless `offline`. A stale
 * api.json is reported in one line on stderr (not with --json) and the command runs without it.
 */
export async function nodeFor(
  configPath: string | undefined,
  options: { offline: boolean; json: boolean },
): Promise<NodeClient | undefined> {
  if (options.offline) return undefined
  const { dataDir } = await loadConfig(await findConfig(configPath))
  const probed = await probeNode(dataDir)
  if (probed.node === undefined && probed.stale && !options.json)
    process.stderr.write(`note: ignoring ${probed.reason}; running on the data dir directly\n`)
  return probed.node
}

function nodeClient(file: NodeApiFile): NodeClient {
  return {
    peerId: file.peerId,
    url: file.url,
    via: `node ${file.peerId}`,
    async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const url = new URL(path, file.url)
      let res: Response
      try {
        res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${file.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body, bigintText) }),
          signal: interrupt.signal,
        })
      } catch (err) {
        if (interrupt.signal.aborted) throw err
        throw new NodeUnreachableError(url.href, file.peerId, err)
      }
      const answer = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
      if (res.ok && answer !== undefined) return answer as T
      throw errorFrom(answer, res.status, file)
    },
  }
}

const bigintText = (_key: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)

/** The node's error answer as the `MeshError` it was on the node. */
function errorFrom(
  answer: Record<string, unknown> | undefined,
  status: number,
  file: NodeApiFile,
): MeshError {
  const code = typeof answer?.code === 'string' ? answer.code : 'E_NODE_UNREACHABLE'
  const short =
    typeof answer?.shortMessage === 'string'
      ? answer.shortMessage
      : `The node ${file.peerId} answered HTTP ${status}`
  const details = (answer?.details ?? {}) as Record<string, unknown>
  // A token refused by the node means api.json was not written by the node now serving that port.
  const hint =
    code === 'E_UNAUTHORIZED'
      ? `The token in node/api.json is not the node's: restart \`fmesh node start\`, or pass --offline.`
      : typeof answer?.hint === 'string'
        ? answer.hint
        : undefined
  return new MeshError(code, short, {
    details: { ...details, via: `node ${file.peerId}` },
    ...(hint ? { hint } : {}),
  })
}
