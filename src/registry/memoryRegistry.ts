import { throwIfAborted } from '../abort.js'
import { ConfigError, PublishConflictError } from '../errors/registry.js'
import { checkKnownKeys } from '../options.js'
import type { EncodedRecord } from '../record/signRecord.js'
import { compileNamePattern } from './namePattern.js'
import type { AbortOptions, PublishReceipt, Registry, RegistryChange, RegistryEntry } from './types.js'
import { watchQueue } from './watchQueue.js'

export interface MemoryRegistryInit {
  /** @default 'memory' */
  id?: string
}

interface Stored {
  bytes: Uint8Array
  seq: number
  id: string
}

/**
 * The reference registry: records in a Map, in this process. The conformance suite's baseline, the
 * fastest registry for tests, and a scratch registry for local development.
 *
 * @example
 * ```ts
 * const mesh = await createMesh({ registries: [memoryRegistry()], trust: { owners: { 'acme.com': [signer.id] } } })
 * ```
 */
export function memoryRegistry(init: MemoryRegistryInit = {}): Registry {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('memoryRegistry', 'options must be an object')
  checkKnownKeys(init, ['id'], 'memoryRegistry')
  if (init.id !== undefined && (typeof init.id !== 'string' || init.id === ''))
    throw new ConfigError('memoryRegistry.id', 'must be a non-empty string')
  return new MemoryRegistry(init.id ?? 'memory')
}

class MemoryRegistry implements Registry {
  private readonly records = new Map<string, Stored>()
  private readonly watchers = watchQueue()

  constructor(readonly id: string) {}

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    throwIfAborted(options.signal, `${this.id} lookup`)
    const stored = this.records.get(name)
    return stored === undefined ? undefined : { bytes: stored.bytes, location: `memory:${stored.id}` }
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    throwIfAborted(options.signal, `${this.id} list`)
    for (const name of [...this.records.keys()]) {
      throwIfAborted(options.signal, `${this.id} list`)
      if (match(name)) yield name
    }
  }

  async publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    throwIfAborted(options.signal, `${this.id} publish`)
    const { record, bytes, id } = encoded
    const stored = this.records.get(record.name)
    if (stored !== undefined && stored.id === id) return { registry: this.id, location: `memory:${id}` }
    if (stored !== undefined && record.seq <= stored.seq) {
      throw new PublishConflictError(this.id, record.name, record.seq, stored.seq)
    }
    this.records.set(record.name, { bytes: new Uint8Array(bytes), seq: record.seq, id })
    this.watchers.notify({ names: [record.name], reason: 'publish' })
    return { registry: this.id, location: `memory:${id}` }
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.watchers.follow(options.signal, `${this.id} watch`)
  }
}
