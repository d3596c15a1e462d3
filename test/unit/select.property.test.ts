import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import { HealthTracker } from '../../src/health/HealthTracker.js'
import type { FunctionRecord, Provider, RiskTier } from '../../src/record/schema.js'
import { RISK_TIERS } from '../../src/record/schema.js'
import type { ResolveResult } from '../../src/resolve/types.js'
import type { SecurityContextInit } from '../../src/security/SecurityContext.js'
import { Selector } from '../../src/select/Selector.js'
import { seededRandom } from '../../src/select/seededRandom.js'
import { STRATEGY_NAMES } from '../../src/select/types.js'
import { fakeClock } from '../_helpers/clock.js'

const NAME = 'acme.com/image/sharpen'
const IDS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']
const PERMS = ['image.read', 'image.write', 'billing.read']

const ids = fc.subarray(IDS)
const perms = fc.subarray(PERMS)
const risk = fc.constantFrom(...RISK_TIERS)

const context: fc.Arbitrary<SecurityContextInit> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ level: 'pure' } as const) },
  {
    weight: 4,
    arbitrary: fc.record({
      level: fc.constant('controlled' as const),
      allowedFunctions: fc.constantFrom([NAME], [], ['acme.com/other/fn']),
      allowedProviders: ids,
      grantedPermissions: perms,
      maxRisk: risk,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ level: fc.constant('full' as const), grantedPermissions: perms, maxRisk: risk }),
  },
)

/** What the test expects, written independently of the filter: may `ctx` reach provider `id`? */
function forbids(ctx: SecurityContextInit, id: string, s: Scenario): boolean {
  if (ctx.level === 'pure') return true
  const rank = (r: RiskTier) => RISK_TIERS.indexOf(r)
  const maxRisk = ctx.maxRisk ?? (ctx.level === 'controlled' ? 'read-only' : 'irreversible')
  if (rank(s.maxRisk) > rank(maxRisk)) return true
  const grants = ctx.grantedPermissions ?? (ctx.level === 'full' ? PERMS : [])
  if ([...s.recordPermissions, ...s.descriptorPermissions].some((p) => !grants.includes(p))) return true
  if (s.minLevel === 'full' && ctx.level !== 'full') return true
  if (ctx.level === 'controlled') {
    const named = (ctx.allowedFunctions ?? []).includes(NAME) || s.allowedByDefault
    if (!named || !(ctx.allowedProviders ?? []).includes(id)) return true
  }
  return false
}

interface Scenario {
  providers: string[]
  trusted: string[]
  recordPermissions: string[]
  descriptorPermissions: string[]
  maxRisk: RiskTier
  minLevel: 'pure' | 'controlled' | 'full'
  allowedByDefault: boolean
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  providers: fc.subarray(IDS, { minLength: 1 }),
  trusted: fc.oneof(fc.constant<string[]>([]), ids),
  recordPermissions: perms,
  descriptorPermissions: perms,
  maxRisk: risk,
  minLevel: fc.constantFrom('pure', 'controlled', 'full'),
  allowedByDefault: fc.boolean(),
})

/** Random call outcomes fed to the health tracker: latencies, failures, calls left in flight. */
const outcomes = fc.array(
  fc.record({
    provider: fc.constantFrom(...IDS),
    latency: fc.double({ min: 0, max: 10_000, noNaN: true }),
    ok: fc.boolean(),
    open: fc.boolean(),
    advance: fc.nat(20_000),
  }),
  { maxLength: 60 },
)

function resolved(s: Scenario): ResolveResult {
  const providers: Provider[] = s.providers.map((id, i) => ({
    id,
    endpoint: `https://${id}.example/fn`,
    cost: { unit: 'USDC', baseUnits: String((i * 7919) % 1000) },
    avgResponseTimeMs: (i * 31) % 200,
  }))
  const descriptor = {
    maxRisk: s.maxRisk,
    idempotency: 'idempotent' as const,
    allowedByDefault: s.allowedByDefault,
    requiredPermissions: s.descriptorPermissions,
  }
  const record: FunctionRecord = {
    name: NAME,
    namespace: 'acme.com',
    versions: { '1.0.0': { providers, descriptor, deprecated: false, yanked: false } },
    securityRequirements: {
      minSecurityLevel: s.minLevel,
      requiredPermissions: s.recordPermissions,
      trustedProviders: s.trusted,
    },
    seq: 1,
    issuedAt: '2026-01-01T00:00:00Z',
    ttlSeconds: 300,
    expiresAt: '2027-01-01T00:00:00Z',
    signatures: [],
  }
  return {
    name: NAME,
    version: '1.0.0',
    record,
    recordId: 'test',
    descriptor,
    providers,
    source: { kind: 'marketplace' },
    verified: { method: 'local' },
  }
}

describe('selection (property)', () => {
  it('never selects a provider the mesh or call context or the record forbids, whatever the strategy and stats', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.option(context, { nil: undefined }),
        context,
        fc.constantFrom(...STRATEGY_NAMES),
        outcomes,
        fc.integer(),
        (s, meshContext, callContext, strategy, history, seed) => {
          const clock = fakeClock(0)
          const health = new HealthTracker({ clock })
          for (const o of history) {
            const call = health.begin(`${o.provider} https://${o.provider}.example/fn`)
            clock.advance(o.advance)
            if (o.open) continue
            if (o.ok) call.success(o.latency)
            else call.failure(o.latency, 'timeout')
          }
          const selector = new Selector({
            health,
            clock,
            strategy,
            random: seededRandom(seed),
            ...(meshContext === undefined ? {} : { securityContext: meshContext }),
          })
          const r = resolved(s)
          const allowed = s.providers.filter(
            (id) =>
              !(s.trusted.length > 0 && !s.trusted.includes(id)) &&
              !forbids(callContext, id, s) &&
              (meshContext === undefined || !forbids(meshContext, id, s)),
          )
          let chosen: string
          try {
            chosen = selector.select(r, callContext).provider.id
          } catch (err) {
            expect(err).toBeInstanceOf(MeshError)
            expect((err as MeshError).code).toBe('E_NO_ALLOWED_PROVIDER')
            expect(allowed).toEqual([])
            return
          }
          expect(allowed).toContain(chosen)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
