import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import {
  type AbortOptions,
  ConfigError,
  checkKnownKeys,
  compileNamePattern,
  type EncodedRecord,
  PublishConflictError,
  type PublishReceipt,
  type Registry,
  type RegistryChange,
  type RegistryComponents,
  type RegistryEntry,
  RegistryError,
  throwIfAborted,
  watchQueue,
} from 'function-mesh/registry'

export interface DirectoryRegistryInit {
  /** Where the records live: `<dir>/<namespace>/<path>.json`. */
  dir: string
  /** @default 'directory' */
  id?: string
}

/**
 * A registry of record files in a directory, written only against `function-mesh/registry`: the
 * example of a third-party registry. Files are checked with the mesh's verifier when the registry
 * starts and on every publish; what it stores is what the mesh verifies again on every lookup.
 */
export function directoryRegistry(init: DirectoryRegistryInit): (components: RegistryComponents) => Registry {
  if (init === null || typeof init !== 'object')
    throw new ConfigError('directoryRegistry', 'must be an object')
  checkKnownKeys(init, ['dir', 'id'], 'directoryRegistry')
  if (typeof init.dir !== 'string' || init.dir === '')
    throw new ConfigError('directoryRegistry.dir', 'must be a directory path')
  return (components) => new DirectoryRegistry(init.dir, init.id ?? 'directory', components)
}

class DirectoryRegistry implements Registry {
  private readonly index = new Map<string, { seq: number; id: string }>()
  private readonly watchers = watchQueue()
  private readonly log
  private writes: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly dir: string,
    readonly id: string,
    private readonly components: RegistryComponents,
  ) {
    this.log = components.logger(`registry:directory:${id}`)
  }

  /** Indexes the files already there; a file that does not verify is left out and logged. */
  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    this.index.clear()
    for (const file of await readdir(this.dir, { recursive: true })) {
      if (!file.endsWith('.json')) continue
      const name = file.slice(0, -'.json'.length).split(sep).join('/')
      try {
        const checked = await this.verify(await readFile(join(this.dir, file)), name)
        this.index.set(name, checked)
      } catch (err) {
        this.log.error('skipped %s: %s', file, (err as Error).message)
      }
    }
  }

  async stop(): Promise<void> {
    await this.writes
  }

  async lookup(name: string, options: AbortOptions = {}): Promise<RegistryEntry | undefined> {
    throwIfAborted(options.signal, `${this.id} lookup`)
    if (!this.index.has(name)) return undefined
    try {
      return {
        bytes: await readFile(this.path(name)),
        location: `file:${relative(this.dir, this.path(name))}`,
      }
    } catch (err) {
      throw new RegistryError(this.id, `read ${name}`, (err as Error).message, err)
    }
  }

  async *list(pattern: string, options: AbortOptions = {}): AsyncIterable<string> {
    const match = compileNamePattern(pattern)
    throwIfAborted(options.signal, `${this.id} list`)
    for (const name of [...this.index.keys()]) if (match(name)) yield name
  }

  async publish(encoded: EncodedRecord, options: AbortOptions = {}): Promise<PublishReceipt> {
    throwIfAborted(options.signal, `${this.id} publish`)
    const name = encoded.record.name
    const checked = await this.verify(encoded.bytes, name)
    // One write at a time, so two publishes of a name cannot both pass the seq check.
    const write = this.writes.then(async () => {
      const stored = this.index.get(name)
      const receipt = { registry: this.id, location: `file:${name}.json` }
      if (stored?.id === checked.id) return receipt
      if (stored !== undefined && checked.seq <= stored.seq)
        throw new PublishConflictError(this.id, name, checked.seq, stored.seq)
      const path = this.path(name)
      await mkdir(dirname(path), { recursive: true })
      await writeFile(`${path}.tmp`, encoded.bytes)
      await rename(`${path}.tmp`, path)
      this.index.set(name, checked)
      this.watchers.notify({ names: [name], reason: 'publish' })
      return receipt
    })
    this.writes = write.catch(() => undefined)
    return write
  }

  watch(options: AbortOptions = {}): AsyncIterable<RegistryChange> {
    return this.watchers.follow(options.signal, `${this.id} watch`)
  }

  private path(name: string): string {
    return `${join(this.dir, ...name.split('/'))}.json`
  }

  private async verify(bytes: Uint8Array, name: string): Promise<{ seq: number; id: string }> {
    const { record, id } = await this.components.verifier.verify(bytes, {
      origin: this.id,
      expectName: name,
      allowExpired: true,
      unowned: 'integrity',
    })
    return { seq: record.seq, id }
  }
}
