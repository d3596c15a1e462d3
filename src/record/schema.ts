import semver from 'semver'
import { z } from 'zod'

// Defined in codec.ts, which counts versions before any schema runs (the verification workers load
// the codec, never zod); named here too, with the other record limits.
export { MAX_VERSIONS } from './codec.js'
/** Most providers per version. @default 64 */
export const MAX_PROVIDERS_PER_VERSION = 64
/** Most signatures on one record. @default 8 */
export const MAX_SIGNATURES = 8

/** Risk tiers, lowest first. */
export const RISK_TIERS = ['read-only', 'mutation', 'sensitive-mutation', 'irreversible'] as const
export type RiskTier = (typeof RISK_TIERS)[number]
/** Idempotency classes: what retries are safe. */
export const IDEMPOTENCY_CLASSES = ['idempotent', 'at-least-once', 'exactly-once'] as const
export type IdempotencyClass = (typeof IDEMPOTENCY_CLASSES)[number]
/** Security levels, lowest first. */
export const SECURITY_LEVELS = ['pure', 'controlled', 'full'] as const
export type SecurityLevel = (typeof SECURITY_LEVELS)[number]

const text = (max: number) => z.string().max(max, `at most ${max} characters`)
const token = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `at most ${max} characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only')
const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' })
const semverString = z
  .string()
  .refine((v) => v.length <= 64 && semver.valid(v) === v, 'must be a semver version')
/** Free-form, signed but not interpreted: the place for fields this version does not know. */
const extensions = z.record(z.string().max(64), z.unknown()).optional()
const jsonSchema = z.record(z.string(), z.unknown())
const permission = token(128)

export const CostSchema = z.strictObject({
  unit: z.string().regex(/^[A-Za-z0-9._-]{1,16}$/, '1-16 of letters, digits, ".", "_", "-"'),
  baseUnits: z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a non-negative integer as a decimal string'),
})

export const ProviderSchema = z.strictObject({
  id: token(128),
  endpoint: z
    .string()
    .max(2048, 'at most 2048 characters')
    .regex(
      /^(?:(?:local:|https?:\/\/|libp2p:)\S+|mcp\+stdio:[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/\S+|mcp\+https?:\/\/[^\s#]+#\S+)$/,
      'must start with local:, http://, https://, libp2p:, or be mcp+stdio:SERVER/TOOL or mcp+http(s)://HOST/PATH#TOOL',
    ),
  capabilityRef: text(512).optional(),
  slaTier: token(32).optional(),
  cost: CostSchema.optional(),
  avgResponseTimeMs: z.number().min(0).max(86_400_000).optional(),
  region: token(64).optional(),
  publicKey: text(256).optional(),
  signature: text(256).optional(),
  extensions,
})

export const DescriptorSchema = z.strictObject({
  inputSchema: jsonSchema.optional(),
  outputSchema: jsonSchema.optional(),
  maxRisk: z.enum(RISK_TIERS),
  idempotency: z.enum(IDEMPOTENCY_CLASSES),
  allowedByDefault: z.boolean().default(false),
  maxDurationMs: z.number().int().positive().max(86_400_000).optional(),
  triggerEvents: z.array(token(128)).max(32).optional(),
  requiredPermissions: z.array(permission).max(64).optional(),
  extensions,
})

export const VersionSchema = z.strictObject({
  providers: z
    .array(ProviderSchema)
    .max(MAX_PROVIDERS_PER_VERSION, `at most ${MAX_PROVIDERS_PER_VERSION} providers`),
  descriptor: DescriptorSchema,
  deprecated: z.boolean().default(false),
  yanked: z.boolean().default(false),
  deprecationMessage: text(512).optional(),
  extensions,
})

export const SecurityRequirementsSchema = z.strictObject({
  minSecurityLevel: z.enum(SECURITY_LEVELS).default('controlled'),
  requiredPermissions: z.array(permission).max(64).default([]),
  trustedProviders: z.array(token(128)).max(256).default([]),
})

export const SignatureSchema = z.strictObject({
  keyId: z.string().min(1).max(256),
  alg: z.literal('ed25519'),
  sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be a 64-byte ed25519 signature in base64url'),
})

export const FunctionRecordSchema = z.strictObject({
  name: z.string().max(256),
  namespace: z.string().max(253),
  description: text(2048).optional(),
  latestVersion: semverString.optional(),
  versions: z.record(semverString, VersionSchema),
  securityRequirements: SecurityRequirementsSchema.optional(),
  seq: z.number().int('must be an integer').min(0).max(Number.MAX_SAFE_INTEGER),
  issuedAt: isoTime,
  ttlSeconds: z.number().int().min(0).max(31_536_000),
  expiresAt: isoTime,
  signatures: z.array(SignatureSchema).max(MAX_SIGNATURES, `at most ${MAX_SIGNATURES} signatures`),
  extensions,
})

export type Cost = z.infer<typeof CostSchema>
export type Provider = z.infer<typeof ProviderSchema>
export type Descriptor = z.infer<typeof DescriptorSchema>
export type FunctionVersion = z.infer<typeof VersionSchema>
export type SecurityRequirements = z.infer<typeof SecurityRequirementsSchema>
export type RecordSignature = z.infer<typeof SignatureSchema>
/** A record as stored and shared: every field checked, signatures attached. */
export type FunctionRecord = z.infer<typeof FunctionRecordSchema>
/** What a publisher writes: the envelope fields may be left for `publish` to fill in. */
export type RecordDraft = Omit<
  z.input<typeof FunctionRecordSchema>,
  'namespace' | 'seq' | 'issuedAt' | 'ttlSeconds' | 'expiresAt' | 'signatures'
> &
  Partial<Pick<FunctionRecord, 'namespace' | 'seq' | 'issuedAt' | 'ttlSeconds' | 'expiresAt' | 'signatures'>>
/** A record before signing: every envelope field present, any signatures so far. */
export type UnsignedRecord = z.input<typeof FunctionRecordSchema>
