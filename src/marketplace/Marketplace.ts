import semver from 'semver'
import { z } from 'zod'
import { InvalidArgumentError } from '../errors/mesh.js'
import { ConfigError } from '../errors/registry.js'
import type { FunctionName } from '../name.js'
import { normalizeRecordName, parseFunctionName } from '../name.js'
import { CostSchema, type Descriptor, DescriptorSchema, type FunctionRecord } from '../record/schema.js'
import { selectVersion } from '../resolve/selectVersion.js'
import type { ResolveResult } from '../resolve/types.js'

/** What an in-process handler is called with, besides its input. */
export interface LocalCallContext {
  /** Fires when the caller's deadline passes or the call is cancelled. */
  readonly signal: AbortSignal
  /** Epoch milliseconds by which the call must finish, when there is a deadline. */
  readonly deadline?: number
  readonly idempotencyKey?: string
  readonly traceparent?: string
  readonly principal?: string
}

/** An in-process implementation of a function. */
export type LocalHandler<I = unknown, O = unknown> = (input: I, context: LocalCallContext) => O | Promise<O>

const LocalDescriptorSchema = DescriptorSchema.partial({ maxRisk: true, idempotency: true }).extend({
  name: z.string(),
  version: z.string().refine((v) => semver.valid(v) === v, 'must be a semver version'),
  description: z.string().max(2048).optional(),
  cost: CostSchema.optional(),
})

/** What `mesh.marketplace.register` takes: a name, a version and the descriptor fields. */
export type LocalFunctionDescriptor = z.input<typeof LocalDescriptorSchema>

/** A registered local function, as the invocation layer sees it. */
export interface LocalFunction {
  readonly name: string
  readonly version: string
  readonly descriptor: Descriptor
  readonly handler: LocalHandler
}

interface LocalEntry {
  versions: Map<string, LocalFunction>
  record: FunctionRecord
  results: Map<string, ResolveResult>
}

/**
 * The local capability marketplace: functions served by handlers in this process. Resolution asks
 * it first, so a local implementation always wins over the network (the fast path).
 *
 * @example
 * ```ts
 * mesh.marketplace.register(
 *   { name: 'acme.com/text/upper', version: '1.0.0', maxRisk: 'read-only', idempotency: 'idempotent' },
 *   (input: { text: string }) => ({ text: input.text.toUpperCase() }),
 * )
 * ```
 */
export class Marketplace {
  private readonly entries = new Map<string, LocalEntry>()

  /** Registers a handler; returns a function that unregisters it. */
  register<I, O>(descriptor: LocalFunctionDescriptor, handler: LocalHandler<I, O>): () => void {
    const parsed = LocalDescriptorSchema.safeParse(descriptor)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new ConfigError(`marketplace.register: ${issue.path.join('.')}`, issue.message)
    }
    if (typeof handler !== 'function')
      throw new ConfigError('marketplace.register: handler', 'must be a function')
    const { name: rawName, version, description, cost, maxRisk, idempotency, ...rest } = parsed.data
    const name = normalizeRecordName(rawName)
    const fn: LocalFunction = {
      name,
      version,
      descriptor: { ...rest, maxRisk: maxRisk ?? 'read-only', idempotency: idempotency ?? 'idempotent' },
      handler: handler as LocalHandler,
    }
    const entry = this.entries.get(name) ?? {
      versions: new Map(),
      record: undefined as never,
      results: new Map(),
    }
    entry.versions.set(version, fn)
    entry.record = buildRecord(name, entry.versions, description, cost)
    entry.results.clear()
    this.entries.set(name, entry)
    return () => {
      const current = this.entries.get(name)
      if (current?.versions.get(version) !== fn) return
      current.versions.delete(version)
      current.results.clear()
      if (current.versions.size === 0) this.entries.delete(name)
      else current.record = buildRecord(name, current.versions, description, cost)
    }
  }

  /** The local function for a name and exact version. */
  get(name: string, version: string): LocalFunction | undefined {
    return this.entries.get(name)?.versions.get(version)
  }

  /** Local functions listening for a trigger event kind. */
  *byTrigger(kind: string): Iterable<LocalFunction> {
    for (const entry of this.entries.values()) {
      for (const fn of entry.versions.values()) if (fn.descriptor.triggerEvents?.includes(kind)) yield fn
    }
  }

  /** Every registered function, each version once (for listings: the gateway, `fmesh ls`). */
  *functions(): Iterable<LocalFunction> {
    for (const entry of this.entries.values()) yield* entry.versions.values()
  }

  get size(): number {
    return this.entries.size
  }

  /** The names (`namespace/path`) with at least one registered version (the MCP server lists them). */
  names(): string[] {
    return [...this.entries.keys()]
  }

  /** The resolution for a parsed name, if a local version satisfies it; `undefined` otherwise. */
  match(name: FunctionName, includeDeprecated = false): ResolveResult | undefined {
    if (name === null || typeof name !== 'object')
      throw new InvalidArgumentError(
        'marketplace.match',
        'name',
        'a FunctionName from parseFunctionName',
        name,
      )
    const entry = this.entries.get(name.name)
    if (entry === undefined) return undefined
    const key = selectorKey(name, includeDeprecated)
    const memo = entry.results.get(key)
    if (memo !== undefined) return memo
    let version: string
    try {
      version = selectVersion(entry.record, name.selector, includeDeprecated)
    } catch {
      return undefined
    }
    const entryVersion = entry.record.versions[version]!
    const result: ResolveResult = Object.freeze<ResolveResult>({
      name: name.name,
      version,
      record: entry.record,
      recordId: `local:${name.name}@${version}`,
      descriptor: entryVersion.descriptor,
      providers: entryVersion.providers,
      source: { kind: 'marketplace' },
      verified: { method: 'local' },
    })
    if (entry.results.size >= 64) entry.results.clear()
    entry.results.set(key, result)
    return result
  }
}

/** The memo key of a selector. */
/** The key of `latest` with deprecated versions (one string, not one per parsed name). */
const ALL_LATEST = '#all'

export function selectorKey(name: FunctionName, includeDeprecated: boolean): string {
  const s = name.selector
  const text = s.kind === 'latest' ? '' : s.kind === 'exact' ? s.version : s.range
  if (!includeDeprecated) return text
  return text === '' ? ALL_LATEST : `${text}#all`
}

function buildRecord(
  name: string,
  versions: Map<string, LocalFunction>,
  description: string | undefined,
  cost: z.infer<typeof CostSchema> | undefined,
): FunctionRecord {
  const { namespace } = parseFunctionName(name)
  const record: FunctionRecord = {
    name,
    namespace,
    versions: {},
    seq: 0,
    issuedAt: new Date(0).toISOString(),
    ttlSeconds: 0,
    expiresAt: '9999-12-31T23:59:59.999Z',
    signatures: [],
  }
  if (description !== undefined) record.description = description
  for (const [version, fn] of versions) {
    record.versions[version] = {
      deprecated: false,
      yanked: false,
      descriptor: fn.descriptor,
      providers: [
        {
          id: 'local',
          endpoint: `local:${name}@${version}`,
          avgResponseTimeMs: 0,
          ...(cost === undefined ? {} : { cost }),
        },
      ],
    }
  }
  return record
}
