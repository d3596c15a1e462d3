import type { Helia } from '@helia/interface'
import type { IPNS } from '@helia/ipns'
import type { UnixFS } from '@helia/unixfs'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import type { Logger } from '../../src/logger.js'
import type { RecordVerifier } from '../../src/trust/RecordVerifier.js'
import { nameOfSegments } from './_layout.js'
import type { IndexEntry, NameIndex } from './_nameIndex.js'
import { walkFiles } from './_tree.js'
import { IpnsRollbackError } from './errors.js'

/** The registry's root and the IPNS name it is published under. */
export interface OwnRoot {
  readonly ipnsName: string
  readonly root: CID
  readonly sequence: bigint
  /** Publishes `root` under the name (the sequence rises by one) and makes it the current root. */
  publish(root: CID): Promise<bigint>
}

export interface OpenRootInit {
  registry: string
  helia: Helia
  fs: UnixFS
  name: IPNS
  index: NameIndex
  keyName: string
  lifetimeMs: number
  verifier: RecordVerifier
  log: Logger
}

/**
 * Brings the index and the IPNS name into step when the registry opens: the index as saved when its
 * root is the one the name holds; rebuilt from the name's root when the index is missing or behind
 * (a crash between publishing the root and saving the index); refused when the name went backwards.
 */
export async function openRoot(init: OpenRootInit): Promise<OwnRoot> {
  const { helia, name, index, keyName, lifetimeMs, log } = init
  const key = await loadOrCreateKey(helia, keyName)
  const ipnsName = `/ipns/${key.publicKey.toCID().toString(base36)}`
  const state = await index.load()
  const resolved = await resolveOwn(name, key.publicKey, log)
  let root: CID
  let sequence: bigint
  if (resolved !== undefined && (state === undefined || resolved.sequence > state.ipnsSequence)) {
    log('rebuilding the index from %s at sequence %s', resolved.root, resolved.sequence)
    await rebuild(init, resolved)
    root = resolved.root
    sequence = resolved.sequence
  } else if (state !== undefined) {
    if (resolved !== undefined && resolved.sequence < state.ipnsSequence)
      throw new IpnsRollbackError(init.registry, ipnsName, resolved.sequence, state.ipnsSequence)
    root = state.root
    sequence = state.ipnsSequence
  } else {
    root = await init.fs.addDirectory()
    sequence = 0n
  }
  const publish = async (next: CID): Promise<bigint> => {
    const result = await name.publish(keyName, next, { offline: true, lifetime: lifetimeMs })
    own.root = next
    own.sequence = result.record.sequence ?? 0n
    return own.sequence
  }
  const own = { ipnsName, root, sequence, publish }
  // A new registry, or a name whose record expired or went missing: publish the root it has.
  if (resolved === undefined) {
    const published = await publish(root)
    await index.save(new Map(), { root, ipnsSequence: published })
  }
  return own
}

async function loadOrCreateKey(helia: Helia, keyName: string) {
  try {
    return await helia.keychain.exportKey(keyName)
  } catch (err) {
    if ((err as Error).name !== 'NotFoundError') throw err
    return helia.keychain.generateKey(keyName)
  }
}

/** The root the registry's own name holds in the local datastore, or undefined (none, or expired). */
async function resolveOwn(
  name: IPNS,
  publicKey: Parameters<IPNS['resolve']>[0],
  log: Logger,
): Promise<{ root: CID; sequence: bigint } | undefined> {
  try {
    let last: { root: CID; sequence: bigint } | undefined
    for await (const result of name.resolve(publicKey, { offline: true, nocache: true })) {
      const cid = result.value.replace(/^\/ipfs\//, '').split('/')[0]!
      last = { root: CID.parse(cid), sequence: result.record.sequence ?? 0n }
    }
    return last
  } catch (err) {
    if ((err as Error).name !== 'NotFoundError') log('own IPNS name unresolved: %s', (err as Error).message)
    return undefined
  }
}

/** Rebuilds the index from the files under `root`, verifying each record; refused files are logged. */
async function rebuild(init: OpenRootInit, resolved: { root: CID; sequence: bigint }): Promise<void> {
  const { fs, helia, verifier, registry, log } = init
  const entries = new Map<string, IndexEntry>()
  for await (const file of walkFiles(fs, resolved.root)) {
    const recordName = nameOfSegments(file.segments)
    const path = file.segments.join('/')
    if (recordName === undefined) {
      log('rebuild: %s holds no record, skipped', path)
      continue
    }
    const chunks: Uint8Array[] = []
    for await (const chunk of fs.cat(file.cid, { offline: true })) chunks.push(chunk)
    try {
      const { record, id } = await verifier.verify(Buffer.concat(chunks), {
        origin: `${registry} rebuild ${path}`,
        expectName: recordName,
        allowExpired: true,
        unowned: 'integrity',
      })
      entries.set(recordName, { cid: file.cid, seq: record.seq, id })
      if (!(await helia.pins.isPinned(file.cid)))
        for await (const _ of helia.pins.add(file.cid, { depth: 0 })) void _
    } catch (err) {
      log('rebuild: %s refused: %s', path, (err as Error).message)
    }
  }
  await init.index.replace(entries, { root: resolved.root, ipnsSequence: resolved.sequence })
}
