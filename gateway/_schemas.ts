import type { JsonSchema } from './_route.js'

// Response schemas for the OpenAPI document: the shapes the handlers answer with, kept short (the
// record format itself is documented in the README and src/record/schema.ts).

const str = { type: 'string' }
const int = { type: 'integer' }
const num = { type: 'number' }
const bool = { type: 'boolean' }
const any = {}
const obj = (properties: Record<string, unknown>, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
})
const arr = (items: unknown): JsonSchema => ({ type: 'array', items })

export const MeshErrorSchema = obj(
  {
    name: str,
    code: { type: 'string', description: 'Stable code, e.g. E_FUNCTION_NOT_FOUND; the status comes from it' },
    shortMessage: str,
    message: { type: 'string', description: 'What went wrong, the details, and what to do next' },
    details: { type: 'object' },
    hint: str,
    cause: { type: 'object' },
  },
  ['name', 'code', 'shortMessage', 'message', 'details'],
)

export const HealthSchema = obj({
  key: str,
  circuit: { enum: ['closed', 'half-open', 'open'] },
  inFlight: int,
  samples: int,
  latencyMs: num,
  peakLatencyMs: num,
  successRatio: num,
  reopenAt: int,
})

const Cost = obj({ unit: str, baseUnits: { type: 'string', pattern: '^[0-9]+$' } }, ['unit', 'baseUnits'])
export const ProviderSchema = obj(
  { id: str, endpoint: str, cost: Cost, slaTier: str, avgResponseTimeMs: num, capabilityRef: str },
  ['id', 'endpoint'],
)
const ProviderWithHealth = {
  ...ProviderSchema,
  properties: { ...(ProviderSchema.properties as object), health: HealthSchema },
}

export const FunctionListSchema = obj(
  {
    functions: arr(
      obj(
        {
          name: str,
          sources: arr(str),
          description: str,
          latestVersion: str,
          versions: arr(
            obj({ version: str, deprecated: bool, yanked: bool, providers: arr(ProviderWithHealth) }, [
              'version',
            ]),
          ),
          error: MeshErrorSchema,
        },
        ['name', 'sources'],
      ),
    ),
    registries: arr(obj({ id: str, status: { enum: ['ok', 'error'] }, names: int, error: MeshErrorSchema })),
    truncated: bool,
  },
  ['functions', 'registries', 'truncated'],
)

export const ResolveSchema = obj(
  {
    name: str,
    version: str,
    recordId: str,
    source: obj({ kind: { enum: ['marketplace', 'cache', 'registry'] }, registry: str, stale: bool }),
    verified: obj({ method: { enum: ['local', 'signature'] }, keyId: str, trustSource: str, seq: int }),
    descriptor: { type: 'object' },
    providers: arr(ProviderSchema),
    record: { type: 'object', description: 'The signed FunctionRecord' },
    report: arr(obj({ registry: str, status: str, error: any, seq: int, recordId: str })),
  },
  ['name', 'version', 'recordId', 'source', 'verified', 'descriptor', 'providers', 'record'],
)

export const SelectSchema = obj(
  {
    name: str,
    version: str,
    provider: ProviderSchema,
    providerKey: str,
    strategy: str,
    reason: { type: 'string', description: 'Why this provider' },
    candidates: arr(obj({ provider: ProviderSchema, key: str, cost: str, unit: str, health: HealthSchema })),
    removed: arr(
      obj({ provider: ProviderSchema, violations: arr(obj({ rule: str, scope: str, message: str })) }),
    ),
    ejection: { type: 'object' },
  },
  ['name', 'version', 'provider', 'providerKey', 'strategy', 'reason', 'candidates', 'removed'],
)

export const ChargeSchema = obj(
  {
    entry: { type: 'string', description: 'The FUNCTION_COMPLETED entry id' },
    currency: { type: ['string', 'null'] },
    amount: { type: 'string', description: 'Integer base units' },
    quantity: str,
    lease: str,
  },
  ['entry', 'currency', 'amount', 'quantity'],
)

export const CallResultSchema = obj(
  {
    output: any,
    name: str,
    version: str,
    provider: ProviderSchema,
    invocationId: str,
    lineage: obj({ invoked: str, completed: str, entries: arr(str) }, ['invoked', 'completed', 'entries']),
    charge: ChargeSchema,
    attempts: int,
    replayed: {
      type: 'boolean',
      description: 'True when an earlier call with the same Idempotency-Key answered',
    },
  },
  ['output', 'version', 'provider', 'invocationId', 'lineage', 'charge', 'attempts', 'replayed'],
)

export const DispatchSchema = obj(
  {
    kind: str,
    results: arr(
      obj({ name: str, version: str, ok: bool, result: CallResultSchema, error: MeshErrorSchema }),
    ),
  },
  ['kind', 'results'],
)

export const RecentCallsSchema = obj({
  calls: arr(
    obj({
      at: int,
      name: str,
      version: str,
      outcome: { enum: ['ok', 'error'] },
      principal: str,
      providerId: str,
      invocationId: str,
      lineage: { enum: ['completed', 'failed', 'replayed'] },
      charge: obj({ amount: str, currency: str }),
      code: str,
      durationMs: num,
    }),
  ),
})

export const LineageSchema = obj(
  { invocationId: str, entries: arr(obj({ id: str, entry: { type: 'object' } }, ['id', 'entry'])) },
  ['invocationId', 'entries'],
)

export const CheckpointSchema = obj(
  { log: str, treeSize: int, root: str, at: int, keyId: str, signature: str },
  ['log', 'treeSize', 'root', 'at', 'keyId', 'signature'],
)

export const ProofSchema = obj(
  { entryId: str, entry: str, leafIndex: int, path: arr(str), checkpoint: CheckpointSchema },
  ['entryId', 'entry', 'leafIndex', 'path', 'checkpoint'],
)

export const UsageSchema = obj({
  by: str,
  rows: arr(obj({ key: str, currency: { type: ['string', 'null'] }, amount: str, calls: int })),
})

export const ProvidersHealthSchema = obj({
  providers: arr({
    ...HealthSchema,
    properties: { ...(HealthSchema.properties as object), id: str, endpoint: str },
  }),
})

export const PeersSchema = obj({
  peers: arr(obj({ peerId: str, addrs: arr(str), connectedAt: int })),
  gossip: obj({ accepted: int, rejected: int }),
})

export const HealthzSchema = obj({ ok: bool }, ['ok'])
export const ReadyzSchema = obj(
  { ready: bool, registries: arr(str), ledgerKey: str, error: MeshErrorSchema },
  ['ready'],
)
