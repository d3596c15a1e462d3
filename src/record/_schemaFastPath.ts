import semver from 'semver'
import {
  FunctionRecordSchema,
  IDEMPOTENCY_CLASSES,
  MAX_PROVIDERS_PER_VERSION,
  MAX_SIGNATURES,
  RISK_TIERS,
  SECURITY_LEVELS,
} from './schema.js'

/**
 * The record schema's fast path: `true` only when `FunctionRecordSchema.safeParse(raw)` would succeed
 * and return a value deep-equal to `raw` (every defaulted field present, nothing stripped), so the
 * caller may use `raw` itself. Any doubt answers `false` and the zod schema, the reference this is
 * property-tested against (test/unit/recordFastPath.property.test.ts), does the work and names the
 * failure. The rules are the schema's, written as plain checks: a record read from a registry is
 * parsed JSON, where zod's generality (defaults, transforms, issue collection) costs more than the
 * signature check.
 */
export function schemaAcceptsAsIs(raw: unknown): boolean {
  if (!isPlain(raw)) return false
  const r = raw as Record<string, unknown>
  let keys = 0
  for (const key in r) {
    if (!Object.hasOwn(r, key)) return false
    keys++
  }
  let known = 0
  // Required fields.
  if (!str(r.name, 0, 256)) return false
  if (!str(r.namespace, 0, 253)) return false
  if (!isInt(r.seq, 0, Number.MAX_SAFE_INTEGER)) return false
  if (!isoTime(r.issuedAt) || !isoTime(r.expiresAt)) return false
  if (!isInt(r.ttlSeconds, 0, 31_536_000)) return false
  if (!isPlain(r.versions) || !versions(r.versions as Record<string, unknown>)) return false
  if (!Array.isArray(r.signatures) || !signatures(r.signatures)) return false
  known += 8
  // Optional fields: absent, or present and valid (never present as undefined).
  if ('description' in r) {
    if (!str(r.description, 0, 2048)) return false
    known++
  }
  if ('latestVersion' in r) {
    if (!semverString(r.latestVersion)) return false
    known++
  }
  if ('securityRequirements' in r) {
    if (!securityRequirements(r.securityRequirements)) return false
    known++
  }
  if ('extensions' in r) {
    if (!extensions(r.extensions)) return false
    known++
  }
  return known === keys
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/
const COST_UNIT = /^[A-Za-z0-9._-]{1,16}$/
const BASE_UNITS = /^(0|[1-9][0-9]{0,77})$/
const SIG = /^[A-Za-z0-9_-]{86}$/
const ENDPOINT =
  /^(?:(?:local:|https?:\/\/|libp2p:)\S+|mcp\+stdio:[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/\S+|mcp\+https?:\/\/[^\s#]+#\S+)$/
const ISO_TIME = FunctionRecordSchema.shape.issuedAt
const RISKS: ReadonlySet<unknown> = new Set(RISK_TIERS)
const IDEMPOTENCY: ReadonlySet<unknown> = new Set(IDEMPOTENCY_CLASSES)
const LEVELS: ReadonlySet<unknown> = new Set(SECURITY_LEVELS)

/** Version strings seen valid, so the same few versions of many records are checked once. */
const validVersions = new Set<string>()
const VALID_VERSIONS_MAX = 4096

/** An object as JSON.parse makes it. zod copies others into plain objects, so they are zod's. */
function isPlain(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  return Object.getPrototypeOf(v) === Object.prototype
}

function str(v: unknown, min: number, max: number): boolean {
  return typeof v === 'string' && v.length >= min && v.length <= max
}

function token(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= max && TOKEN.test(v)
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max
}

function isoTime(v: unknown): boolean {
  return typeof v === 'string' && ISO_TIME.safeParse(v).success
}

function semverString(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 64) return false
  if (validVersions.has(v)) return true
  if (semver.valid(v) !== v) return false
  if (validVersions.size >= VALID_VERSIONS_MAX) validVersions.clear()
  validVersions.add(v)
  return true
}

/** A dense array whose every element passes `each`. */
function arrayOf(v: unknown, max: number, each: (e: unknown) => boolean): boolean {
  if (!Array.isArray(v) || v.length > max || Object.getPrototypeOf(v) !== Array.prototype) return false
  for (let i = 0; i < v.length; i++) if (!(i in v) || !each(v[i])) return false
  return true
}

/** An object whose own keys are all in `allowed` (none inherited, none `undefined`). */
function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in o) {
    if (!Object.hasOwn(o, key) || !allowed.has(key) || o[key] === undefined) return false
  }
  return true
}

/** `z.record(keySchema, z.unknown())`: a plain object; a `__proto__` key zod would drop. */
function recordOfUnknown(v: unknown, maxKey: number): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  for (const key in o) {
    if (!Object.hasOwn(o, key) || key === '__proto__' || key.length > maxKey) return false
    if (o[key] === undefined) return false
  }
  return true
}

function extensions(v: unknown): boolean {
  return recordOfUnknown(v, 64)
}

const VERSION_KEYS = new Set([
  'providers',
  'descriptor',
  'deprecated',
  'yanked',
  'deprecationMessage',
  'extensions',
])
const PROVIDER_KEYS = new Set([
  'id',
  'endpoint',
  'capabilityRef',
  'slaTier',
  'cost',
  'avgResponseTimeMs',
  'region',
  'publicKey',
  'signature',
  'extensions',
])
const COST_KEYS = new Set(['unit', 'baseUnits'])
const DESCRIPTOR_KEYS = new Set([
  'inputSchema',
  'outputSchema',
  'maxRisk',
  'idempotency',
  'allowedByDefault',
  'maxDurationMs',
  'triggerEvents',
  'requiredPermissions',
  'extensions',
])
const SECURITY_KEYS = new Set(['minSecurityLevel', 'requiredPermissions', 'trustedProviders'])
const SIGNATURE_KEYS = new Set(['keyId', 'alg', 'sig'])

function versions(v: Record<string, unknown>): boolean {
  for (const key in v) {
    if (!Object.hasOwn(v, key) || key === '__proto__' || !semverString(key)) return false
    if (!version(v[key])) return false
  }
  return true
}

function version(v: unknown): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  if (!onlyKeys(o, VERSION_KEYS)) return false
  // Defaulted fields must be present, or zod's output would differ from the input.
  if (typeof o.deprecated !== 'boolean' || typeof o.yanked !== 'boolean') return false
  if ('deprecationMessage' in o && !str(o.deprecationMessage, 0, 512)) return false
  if ('extensions' in o && !extensions(o.extensions)) return false
  return arrayOf(o.providers, MAX_PROVIDERS_PER_VERSION, provider) && descriptor(o.descriptor)
}

function provider(v: unknown): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  if (!onlyKeys(o, PROVIDER_KEYS)) return false
  if (!token(o.id, 128)) return false
  if (typeof o.endpoint !== 'string' || o.endpoint.length > 2048 || !ENDPOINT.test(o.endpoint)) return false
  if ('capabilityRef' in o && !str(o.capabilityRef, 0, 512)) return false
  if ('slaTier' in o && !token(o.slaTier, 32)) return false
  if ('cost' in o && !cost(o.cost)) return false
  if ('avgResponseTimeMs' in o) {
    const ms = o.avgResponseTimeMs
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 86_400_000) return false
  }
  if ('region' in o && !token(o.region, 64)) return false
  if ('publicKey' in o && !str(o.publicKey, 0, 256)) return false
  if ('signature' in o && !str(o.signature, 0, 256)) return false
  if ('extensions' in o && !extensions(o.extensions)) return false
  return true
}

function cost(v: unknown): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  if (!onlyKeys(o, COST_KEYS)) return false
  return (
    typeof o.unit === 'string' &&
    COST_UNIT.test(o.unit) &&
    typeof o.baseUnits === 'string' &&
    BASE_UNITS.test(o.baseUnits)
  )
}

function descriptor(v: unknown): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  if (!onlyKeys(o, DESCRIPTOR_KEYS)) return false
  if ('inputSchema' in o && !recordOfUnknown(o.inputSchema, Number.POSITIVE_INFINITY)) return false
  if ('outputSchema' in o && !recordOfUnknown(o.outputSchema, Number.POSITIVE_INFINITY)) return false
  if (!RISKS.has(o.maxRisk) || !IDEMPOTENCY.has(o.idempotency)) return false
  if (typeof o.allowedByDefault !== 'boolean') return false
  if ('maxDurationMs' in o && !isInt(o.maxDurationMs, 1, 86_400_000)) return false
  if ('triggerEvents' in o && !arrayOf(o.triggerEvents, 32, (e) => token(e, 128))) return false
  if ('requiredPermissions' in o && !arrayOf(o.requiredPermissions, 64, (e) => token(e, 128))) return false
  if ('extensions' in o && !extensions(o.extensions)) return false
  return true
}

function securityRequirements(v: unknown): boolean {
  if (!isPlain(v)) return false
  const o = v as Record<string, unknown>
  if (!onlyKeys(o, SECURITY_KEYS)) return false
  return (
    LEVELS.has(o.minSecurityLevel) &&
    arrayOf(o.requiredPermissions, 64, (e) => token(e, 128)) &&
    arrayOf(o.trustedProviders, 256, (e) => token(e, 128))
  )
}

function signatures(v: unknown[]): boolean {
  return arrayOf(v, MAX_SIGNATURES, (s) => {
    if (!isPlain(s)) return false
    const o = s as Record<string, unknown>
    return (
      onlyKeys(o, SIGNATURE_KEYS) &&
      str(o.keyId, 1, 256) &&
      o.alg === 'ed25519' &&
      typeof o.sig === 'string' &&
      SIG.test(o.sig)
    )
  })
}
