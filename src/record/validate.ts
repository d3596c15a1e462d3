import type { z } from 'zod'
import { RecordSchemaError } from '../errors/record.js'
import { type FunctionName, parseRecordName } from '../name.js'
import { schemaAcceptsAsIs } from './_schemaFastPath.js'
import { type FunctionRecord, FunctionRecordSchema } from './schema.js'

/** Records {@link validateRecord} returned as they were given (no default added, nothing rebuilt). */
const takenAsIs = new WeakSet<object>()

/**
 * Whether `record` is a value {@link validateRecord} returned as it was given: its canonical form is
 * then that of the JSON it was parsed from (the bytes it was verified by), with nothing to compare.
 */
export function wasTakenAsIs(record: FunctionRecord): boolean {
  return takenAsIs.has(record)
}

/**
 * Checks a parsed JSON value against the record schema and the rules that span fields. Every failure
 * is a {@link RecordSchemaError} naming the field and the rule.
 */
export function validateRecord(raw: unknown, origin?: string): FunctionRecord {
  const where = origin === undefined ? {} : { origin }
  let record: FunctionRecord
  // A record the schema takes as it is (the common case) skips zod; any other gets zod's answer.
  if (schemaAcceptsAsIs(raw)) {
    record = raw as FunctionRecord
    takenAsIs.add(record)
  } else {
    const result = FunctionRecordSchema.safeParse(raw)
    if (!result.success) {
      const issue = result.error.issues[0]!
      throw new RecordSchemaError(issuePath(issue), issueRule(issue), where)
    }
    record = result.data
  }
  let parsed: FunctionName
  try {
    parsed = parseRecordName(record.name)
  } catch (err) {
    throw new RecordSchemaError('name', (err as Error).message.split('\n')[0]!, where)
  }
  const { name, namespace } = parsed
  if (name !== record.name) throw new RecordSchemaError('name', `must be normalized (${name})`, where)
  if (record.namespace !== namespace) {
    throw new RecordSchemaError(
      'namespace',
      `must be ${JSON.stringify(namespace)}, the namespace of the name`,
      where,
    )
  }
  if (record.latestVersion !== undefined && !(record.latestVersion in record.versions)) {
    throw new RecordSchemaError('latestVersion', `${record.latestVersion} is not one of versions`, where)
  }
  if (Date.parse(record.expiresAt) <= Date.parse(record.issuedAt)) {
    throw new RecordSchemaError('expiresAt', 'must be later than issuedAt', where)
  }
  for (const [version, entry] of Object.entries(record.versions)) {
    const seen = new Set<string>()
    entry.providers.forEach((provider, i) => {
      if (seen.has(provider.id)) {
        throw new RecordSchemaError(
          `versions["${version}"].providers[${i}].id`,
          `duplicate provider id ${provider.id}`,
          where,
        )
      }
      seen.add(provider.id)
    })
  }
  const keys = new Set<string>()
  record.signatures.forEach((signature, i) => {
    if (keys.has(signature.keyId))
      throw new RecordSchemaError(`signatures[${i}].keyId`, 'duplicate key id', where)
    keys.add(signature.keyId)
  })
  return record
}

function issuePath(issue: z.core.$ZodIssue): string {
  let path = ''
  let previous: PropertyKey | undefined
  for (const part of issue.path) {
    // Keys of map-like fields (versions, extensions) are data: always shown in brackets.
    const isMapKey = previous === 'versions' || previous === 'extensions'
    if (typeof part === 'number') path += `[${part}]`
    else if (!isMapKey && typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) {
      path += path ? `.${part}` : part
    } else path += `[${JSON.stringify(String(part))}]`
    previous = part
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? ''
    path += path ? `.${key}` : key
  }
  return path
}

function issueRule(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field (put extra data under "extensions")'
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`
  return issue.message
}
