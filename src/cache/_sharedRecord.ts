import type { FunctionRecord, FunctionVersion, Provider, RecordSignature } from '../record/schema.js'
import { InternTable } from './_internTable.js'

/** Distinct short strings remembered before the table starts again (bounds a hostile many). */
const MAX_STRINGS = 4096

/**
 * Short strings that repeat across records (namespaces, key ids, currency units, dates), one copy
 * each. Strings cannot be held weakly, so the table is bounded by count and starts again when full.
 */
export class StringTable {
  private readonly table = new Map<string, string>()

  intern(text: string): string
  intern(text: string | undefined): string | undefined
  intern(text: string | undefined): string | undefined {
    if (text === undefined) return undefined
    const held = this.table.get(text)
    if (held !== undefined) return held
    if (this.table.size >= MAX_STRINGS) this.table.clear()
    this.table.set(text, text)
    return text
  }
}

/** Version entries remembered per shared descriptor (bounds the ones a churning provider list leaves). */
const VERSIONS_PER_DESCRIPTOR = 8

export interface ShareTables {
  readonly subtrees: InternTable
  readonly strings: StringTable
  /**
   * Version entries by their shared descriptor: once a descriptor and provider list are shared, an
   * equal version entry is found by identity, without a digest or a table slot of its own.
   */
  readonly versions: WeakMap<object, FunctionVersion[]>
  /** Whole version maps by their first (shared) version entry, kept once their entries all repeat. */
  readonly versionMaps: WeakMap<FunctionVersion, FunctionRecord['versions'][]>
}

/** Empty share tables. */
export function shareTables(): ShareTables {
  return {
    subtrees: new InternTable(),
    strings: new StringTable(),
    versions: new WeakMap(),
    versionMaps: new WeakMap(),
  }
}

/**
 * A copy of `record` whose parts that repeat between records (descriptors with their schemas,
 * providers, provider lists, security requirements, short strings) are the shared, frozen copies in
 * `tables`. The copy has the same content and key order as `record`, so its canonical form is the same.
 */
export function sharedRecord(record: FunctionRecord, tables: ShareTables): FunctionRecord {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(record) as (keyof FunctionRecord)[]) {
    const value = record[key]
    if (value === undefined) continue
    out[key] = sharedMember(key, value, tables)
  }
  return Object.freeze(out) as unknown as FunctionRecord
}

function sharedMember(key: keyof FunctionRecord, value: unknown, tables: ShareTables): unknown {
  switch (key) {
    case 'namespace':
    case 'issuedAt':
    case 'expiresAt':
    case 'latestVersion':
    case 'description':
      return tables.strings.intern(value as string)
    case 'versions':
      return sharedVersions(value as FunctionRecord['versions'], tables)
    case 'signatures':
      return Object.freeze((value as RecordSignature[]).map((s) => sharedSignature(s, tables)))
    case 'securityRequirements':
    case 'extensions':
      return tables.subtrees.intern(value as object)
    default:
      return value
  }
}

function sharedVersions(
  versions: FunctionRecord['versions'],
  tables: ShareTables,
): FunctionRecord['versions'] {
  const out: Record<string, FunctionVersion> = {}
  let first: FunctionVersion | undefined
  let repeats = true
  for (const [version, entry] of Object.entries(versions)) {
    const copy: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(entry)) {
      if (value === undefined) continue
      if (key === 'providers') copy[key] = sharedProviders(value as Provider[], tables)
      else if (key === 'descriptor' || key === 'extensions')
        copy[key] = tables.subtrees.intern(value as object)
      else copy[key] = value
    }
    const shared = sharedVersion(copy, tables)
    // A version entry made here is new, so the map holding it is too: only maps of repeating
    // entries are looked for (and remembered), so records that share nothing pay nothing for it.
    if (shared === copy) repeats = false
    first ??= shared
    out[version] = shared
  }
  if (!repeats || first === undefined) return Object.freeze(out)
  return remembered(tables.versionMaps, first, out, 8)
}

/** The version map in `table` under `first` equal to `map`, else `map` (frozen, remembered). */
function remembered(
  table: WeakMap<FunctionVersion, FunctionRecord['versions'][]>,
  first: FunctionVersion,
  map: Record<string, FunctionVersion>,
  most: number,
): FunctionRecord['versions'] {
  const known = table.get(first)
  const found = known?.find((m) => sameMembers(m, map))
  if (found !== undefined) return found
  const frozen = Object.freeze(map)
  if (known === undefined) table.set(first, [frozen])
  else {
    if (known.length >= most) known.shift()
    known.push(frozen)
  }
  return frozen
}

/** The remembered version entry equal to `copy` (same keys, same shared values), else `copy`, frozen. */
function sharedVersion(copy: Record<string, unknown>, tables: ShareTables): FunctionVersion {
  const descriptor = copy.descriptor
  if (descriptor === null || typeof descriptor !== 'object') return Object.freeze(copy) as never
  const known = tables.versions.get(descriptor)
  const found = known?.find((v) => sameMembers(v as never, copy))
  if (found !== undefined) return found
  // Frozen in place: the caller tells a new entry by its identity with `copy`.
  const entry = Object.freeze(copy) as unknown as FunctionVersion
  if (known === undefined) tables.versions.set(descriptor, [entry])
  else {
    if (known.length >= VERSIONS_PER_DESCRIPTOR) known.shift()
    known.push(entry)
  }
  return entry
}

function sameMembers(a: object, b: object): boolean {
  const keys = Object.keys(a)
  const other = Object.keys(b)
  if (keys.length !== other.length) return false
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    if (other[i] !== key || !Object.is((a as never)[key], (b as never)[key])) return false
  }
  return true
}

function sharedProviders(providers: readonly Provider[], tables: ShareTables): Provider[] {
  // Each provider is shared on its own, then the list: versions often list the same providers.
  const list = providers.map((p) => tables.subtrees.intern(p))
  return tables.subtrees.intern(list)
}

function sharedSignature(signature: RecordSignature, tables: ShareTables): RecordSignature {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(signature))
    out[key] = key === 'sig' || typeof value !== 'string' ? value : tables.strings.intern(value)
  return Object.freeze(out) as unknown as RecordSignature
}
