import { describe, expect, it } from 'vitest'
import { MeshError } from '../../src/errors/base.js'
import type { NoAllowedProviderError } from '../../src/errors/security.js'
import { createMesh } from '../../src/mesh.js'
import { filterProviders } from '../../src/security/filterProviders.js'
import {
  SecurityContext,
  type SecurityContextInit,
  securityContext,
} from '../../src/security/SecurityContext.js'
import { closeAfter } from '../_helpers/closeAfter.js'
import { draft, meshWith, provider } from '../_helpers/selectFixtures.js'

const NAME = 'acme.com/image/sharpen'

async function refusal(promise: Promise<unknown>): Promise<MeshError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MeshError)
  return err as MeshError
}

function invalid(init: unknown): MeshError {
  try {
    securityContext(init as SecurityContextInit)
  } catch (err) {
    expect(err).toBeInstanceOf(MeshError)
    expect((err as MeshError).code).toBe('E_SECURITY_CONTEXT_INVALID')
    return err as MeshError
  }
  throw new Error('expected the context to be refused')
}

/** The rules that removed each provider, as `id: rule, rule`. */
function rules(err: MeshError): string[] {
  return (err as NoAllowedProviderError).removed.map(
    (r) => `${r.provider}: ${r.violations.map((v) => v.rule).join(', ')}`,
  )
}

const controlled = (extra: Partial<Extract<SecurityContextInit, { level: 'controlled' }>> = {}) =>
  securityContext({
    level: 'controlled',
    allowedFunctions: [NAME],
    allowedProviders: ['p1', 'p2', 'p3'],
    ...extra,
  })

describe('security context input', () => {
  it('error: refuses a non-object', () => expect(invalid('full').details).toMatchObject({ field: '(root)' }))
  it('error: refuses an unknown level, naming the levels', () =>
    expect(invalid({ level: 'admin' }).shortMessage).toBe(
      'Invalid security context at level: must be one of pure, controlled, full',
    ))
  it('error: refuses allow lists on a pure context', () =>
    expect(invalid({ level: 'pure', allowedFunctions: [NAME] }).details).toMatchObject({
      field: 'allowedFunctions',
      rule: 'applies only at level controlled (level pure allows nothing)',
    }))
  it('error: refuses allow lists on a full context', () =>
    expect(invalid({ level: 'full', allowedProviders: ['p1'] }).details).toMatchObject({
      field: 'allowedProviders',
      rule: 'applies only at level controlled (level full has no allow lists)',
    }))
  it('error: refuses unknown fields', () =>
    expect(invalid({ level: 'controlled', allowedFunction: [NAME] }).details).toMatchObject({
      rule: 'unknown field(s) allowedFunction',
    }))
  it('error: refuses a bad glob, naming its index', () =>
    expect(
      invalid({ level: 'controlled', allowedFunctionPatterns: ['acme.com/**', 'a b'] }).details,
    ).toMatchObject({
      field: 'allowedFunctionPatterns[1]',
    }))
  it('error: refuses a function name with a version', () =>
    expect(invalid({ level: 'controlled', allowedFunctions: [`${NAME}@1.0.0`] }).details).toMatchObject({
      field: 'allowedFunctions[0]',
      rule: 'must be a function name (namespace/path, no @version)',
    }))
  it('error: refuses a wildcard inside a permission grant', () =>
    expect(invalid({ level: 'full', grantedPermissions: ['image*.read'] }).details).toMatchObject({
      field: 'grantedPermissions[0]',
    }))
  it('error: refuses an unknown risk tier', () =>
    expect(invalid({ level: 'controlled', maxRisk: 'catastrophic' }).details).toMatchObject({
      field: 'maxRisk',
    }))
  it('error: refuses an allow list over the size limit', () =>
    expect(
      invalid({ level: 'controlled', allowedProviders: Array.from({ length: 1025 }, (_, i) => `p${i}`) })
        .details,
    ).toMatchObject({ field: 'allowedProviders', rule: 'at most 1024 entries' }))
  it('error: mesh.select refuses a bad context before resolving', async () => {
    const mesh = await meshWith([draft(NAME)])
    const err = await refusal(mesh.select(NAME, { level: 'controlled', maxRisk: 7 } as never))
    expect(err.code).toBe('E_SECURITY_CONTEXT_INVALID')
    await mesh.close()
  })
  it('error: createMesh refuses a bad mesh context', async () => {
    await expect(createMesh({ securityContext: { level: 'nope' } as never })).rejects.toMatchObject({
      code: 'E_SECURITY_CONTEXT_INVALID',
    })
  })
  it('normalizes allowed function names to lowercase', () =>
    expect(
      securityContext({ level: 'controlled', allowedFunctions: ['Acme.com/Image/Sharpen'] }).init,
    ).toMatchObject({
      allowedFunctions: [NAME],
    }))
})

describe('levels', () => {
  it('error: pure removes every candidate with rule context.level', async () => {
    const mesh = await meshWith([draft(NAME)])
    const err = await refusal(mesh.select(NAME, { level: 'pure' }))
    expect(err.code).toBe('E_NO_ALLOWED_PROVIDER')
    expect(rules(err)).toEqual(['p1: context.level', 'p2: context.level', 'p3: context.level'])
    await mesh.close()
  })
  it('full reaches every provider the record allows', async () => {
    const mesh = await meshWith([draft(NAME)])
    const result = await mesh.select(NAME, { level: 'full' }, { strategy: 'lowest-cost' })
    expect(result.candidates.map((c) => c.provider.id)).toEqual(['p1', 'p2', 'p3'])
    expect(result.provider.id).toBe('p1')
    await mesh.close()
  })
  it('error: controlled with empty lists removes by both name and provider rules', async () => {
    const mesh = await meshWith([draft(NAME)])
    const err = await refusal(mesh.select(NAME, { level: 'controlled' }))
    expect(rules(err)).toEqual([
      'p1: context.allowedFunctions, context.allowedProviders',
      'p2: context.allowedFunctions, context.allowedProviders',
      'p3: context.allowedFunctions, context.allowedProviders',
    ])
    expect(err.hint).toContain('add the function name to allowedFunctions')
    expect(err.hint).toContain('add the provider id (or a glob matching it) to allowedProviders')
    await mesh.close()
  })
  it('pins the no-allowed-provider message', async () => {
    const mesh = await meshWith([draft(NAME, { providers: [provider('p1', '1')] })])
    const err = await refusal(mesh.select(NAME, { level: 'controlled', allowedFunctions: [NAME] }))
    expect(err.message).toMatchInlineSnapshot(`
      "No provider of acme.com/image/sharpen@1.0.0 is allowed: 1 removed by security rules
        name: acme.com/image/sharpen
        version: 1.0.0
        provider p1: context.allowedProviders [call]

      context.allowedProviders: add the provider id (or a glob matching it) to allowedProviders."
    `)
    await mesh.close()
  })
})

describe('controlled allow lists', () => {
  const subject = (name: string, extra: Parameters<typeof draft>[1] = {}) => {
    const d = draft(name, extra)
    const version = d.versions['1.0.0']!
    return {
      name,
      record: { ...d, namespace: 'acme.com' } as never,
      descriptor: {
        ...version.descriptor,
        allowedByDefault: version.descriptor.allowedByDefault ?? false,
      } as never,
      providers: version.providers as never,
    }
  }
  const allowedIds = (ctx: ReturnType<typeof securityContext>, name: string, extra = {}) =>
    filterProviders(ctx, subject(name, extra)).allowed.map((p) => p.id)

  it('admits an exactly listed name', () =>
    expect(allowedIds(controlled(), NAME)).toEqual(['p1', 'p2', 'p3']))
  it('* matches within one segment only', () => {
    const ctx = controlled({ allowedFunctions: [], allowedFunctionPatterns: ['acme.com/image/*'] })
    expect(allowedIds(ctx, NAME)).toHaveLength(3)
    expect(allowedIds(ctx, 'acme.com/image/deep/sharpen')).toEqual([])
  })
  it('** matches across segments', () => {
    const ctx = controlled({ allowedFunctions: [], allowedFunctionPatterns: ['acme.com/**'] })
    expect(allowedIds(ctx, 'acme.com/image/deep/sharpen')).toHaveLength(3)
    expect(allowedIds(ctx, 'beta.org/image/sharpen')).toEqual([])
  })
  it('provider globs match provider ids', () =>
    expect(allowedIds(controlled({ allowedProviders: ['p[12]'] }), NAME)).toEqual(['p1', 'p2']))
  it('allowedByDefault stands in for an allow-list entry', () =>
    expect(allowedIds(controlled({ allowedFunctions: [] }), NAME, { allowedByDefault: true })).toHaveLength(
      3,
    ))
  it('allowedByDefault is ignored with honorAllowedByDefault: false', () => {
    const ctx = controlled({ allowedFunctions: [], honorAllowedByDefault: false })
    const { removed } = filterProviders(ctx, subject(NAME, { allowedByDefault: true }))
    expect(removed[0]!.violations[0]).toMatchObject({
      rule: 'context.allowedFunctions',
      message: expect.stringContaining('allowedByDefault is ignored'),
    })
  })
  it('allowedByDefault waives neither maxRisk nor the provider list', () => {
    const ctx = controlled({ allowedFunctions: [], allowedProviders: ['p1'] })
    const { allowed, removed } = filterProviders(
      ctx,
      subject(NAME, { allowedByDefault: true, maxRisk: 'mutation' }),
    )
    expect(allowed).toEqual([])
    expect(removed.map((r) => r.violations.map((v) => v.rule))).toEqual([
      ['context.maxRisk'],
      ['context.maxRisk', 'context.allowedProviders'],
      ['context.maxRisk', 'context.allowedProviders'],
    ])
  })
  it('maxRisk defaults to read-only at controlled and irreversible at full', () => {
    expect(controlled().maxRisk).toBe('read-only')
    expect(securityContext({ level: 'full' }).maxRisk).toBe('irreversible')
    expect(
      allowedIds(controlled({ maxRisk: 'irreversible' }), NAME, { maxRisk: 'irreversible' }),
    ).toHaveLength(3)
  })
  it('a full context with an explicit maxRisk still applies it', () => {
    const { removed } = filterProviders(
      securityContext({ level: 'full', maxRisk: 'mutation' }),
      subject(NAME, { maxRisk: 'irreversible' }),
    )
    expect(removed[0]!.violations.map((v) => v.rule)).toEqual(['context.maxRisk'])
  })
  it('error: pins each violation of one context: rule, scope call and message, first rule first', () => {
    const ctx = controlled({ allowedFunctions: [], allowedProviders: ['p1'] })
    const { allowed, removed } = filterProviders(
      ctx,
      subject(NAME, {
        maxRisk: 'mutation',
        descriptorPermissions: ['image.write'],
        securityRequirements: {
          minSecurityLevel: 'full',
          requiredPermissions: ['image.read'],
          trustedProviders: ['p1', 'p2'],
        },
      }),
    )
    expect(allowed).toEqual([])
    const functionRules = [
      {
        rule: 'record.minSecurityLevel',
        scope: 'call',
        message: 'the record demands level full, the call context is controlled',
      },
      {
        rule: 'context.allowedFunctions',
        scope: 'call',
        message: `${NAME} matches no entry of the call context's allowedFunctions or allowedFunctionPatterns and the descriptor is not allowedByDefault`,
      },
      {
        rule: 'context.maxRisk',
        scope: 'call',
        message: "the descriptor's maxRisk is mutation, the call context allows up to read-only",
      },
      { rule: 'record.requiredPermissions', scope: 'call', message: 'the call context lacks image.read' },
      {
        rule: 'descriptor.requiredPermissions',
        scope: 'call',
        message: 'the call context lacks image.write',
      },
    ]
    expect(removed.map((r) => [r.provider.id, r.violations])).toEqual([
      ['p1', functionRules],
      [
        'p2',
        [
          ...functionRules,
          {
            rule: 'context.allowedProviders',
            scope: 'call',
            message: "p2 is not in the call context's allowedProviders",
          },
        ],
      ],
      [
        'p3',
        [
          ...functionRules,
          {
            rule: 'record.trustedProviders',
            scope: 'record',
            message: "p3 is not among the record's trustedProviders p1, p2",
          },
          {
            rule: 'context.allowedProviders',
            scope: 'call',
            message: "p3 is not in the call context's allowedProviders",
          },
        ],
      ],
    ])
    const pure = filterProviders(securityContext({ level: 'pure' }), subject(NAME))
    expect(pure.removed[0]!.violations).toEqual([
      {
        rule: 'context.level',
        scope: 'call',
        message: 'the call context is pure: no mesh function may be called',
      },
    ])
  })
})

describe('record requirements', () => {
  it('error: minSecurityLevel full removes candidates of a controlled context', async () => {
    const mesh = await meshWith([
      draft(NAME, {
        securityRequirements: { minSecurityLevel: 'full', requiredPermissions: [], trustedProviders: [] },
      }),
    ])
    const err = await refusal(mesh.select(NAME, controlled()))
    expect(rules(err)).toEqual([
      'p1: record.minSecurityLevel',
      'p2: record.minSecurityLevel',
      'p3: record.minSecurityLevel',
    ])
    expect((await mesh.select(NAME, { level: 'full' })).candidates).toHaveLength(3)
    await mesh.close()
  })
  it('error: requiredPermissions missing from the grants, then held through a prefix grant', async () => {
    const mesh = await meshWith([
      draft(NAME, {
        securityRequirements: {
          minSecurityLevel: 'controlled',
          requiredPermissions: ['image.read'],
          trustedProviders: [],
        },
      }),
    ])
    const err = await refusal(mesh.select(NAME, controlled({ grantedPermissions: ['text.read'] })))
    expect(rules(err)[0]).toBe('p1: record.requiredPermissions')
    expect(err.details).toMatchObject({ 'provider p1': 'record.requiredPermissions [call]' })
    expect(
      (await mesh.select(NAME, controlled({ grantedPermissions: ['image.*'] }))).candidates,
    ).toHaveLength(3)
    expect((await mesh.select(NAME, { level: 'full' })).candidates).toHaveLength(3)
    await expect(
      mesh.select(NAME, { level: 'full', grantedPermissions: ['image.write'] }),
    ).rejects.toMatchObject({
      code: 'E_NO_ALLOWED_PROVIDER',
    })
    await mesh.close()
  })
  it("error: the descriptor's requiredPermissions are checked too", async () => {
    const mesh = await meshWith([draft(NAME, { descriptorPermissions: ['image.write'] })])
    const err = await refusal(mesh.select(NAME, controlled({ grantedPermissions: ['image.read'] })))
    expect(rules(err)[0]).toBe('p1: descriptor.requiredPermissions')
    expect(
      (await mesh.select(NAME, controlled({ grantedPermissions: ['image.write'] }))).candidates,
    ).toHaveLength(3)
    await mesh.close()
  })
  it('trustedProviders removes untrusted providers at every level, once, in scope record', async () => {
    const mesh = await meshWith([
      draft(NAME, {
        securityRequirements: { minSecurityLevel: 'pure', requiredPermissions: [], trustedProviders: ['p2'] },
      }),
    ])
    const result = await mesh.select(NAME, { level: 'full' })
    expect(result.provider.id).toBe('p2')
    expect(
      result.removed.map((r) => [r.provider.id, r.violations.map((v) => `${v.rule}/${v.scope}`)]),
    ).toEqual([
      ['p1', ['record.trustedProviders/record']],
      ['p3', ['record.trustedProviders/record']],
    ])
    await mesh.close()
  })
})

describe('mesh and call contexts', () => {
  it('a call context narrows the mesh context and can never widen it', async () => {
    const mesh = await meshWith([draft(NAME)], {
      securityContext: {
        level: 'controlled',
        allowedFunctionPatterns: ['acme.com/**'],
        allowedProviders: ['p1', 'p2'],
      },
    })
    const wide = await mesh.select(NAME, { level: 'full' })
    expect(wide.candidates.map((c) => c.provider.id)).toEqual(['p1', 'p2'])
    expect(wide.removed[0]!.violations).toEqual([
      {
        rule: 'context.allowedProviders',
        scope: 'mesh',
        message: "p3 is not in the mesh context's allowedProviders",
      },
    ])
    const narrow = await mesh.select(NAME, controlled({ allowedProviders: ['p2', 'p3'] }))
    expect(narrow.candidates.map((c) => c.provider.id)).toEqual(['p2'])
    await mesh.close()
  })
  it('local providers pass the provider rule unless allowLocal is false', async () => {
    const mesh = closeAfter(await createMesh())
    mesh.marketplace.register({ name: 'acme.com/text/upper', version: '1.0.0' }, (s: string) =>
      s.toUpperCase(),
    )
    const ctx = { level: 'controlled', allowedFunctions: ['acme.com/text/upper'] } as const
    expect((await mesh.select('acme.com/text/upper', ctx)).provider.id).toBe('local')
    const err = await refusal(mesh.select('acme.com/text/upper', { ...ctx, allowLocal: false }))
    expect(rules(err)).toEqual(['local: context.allowedProviders'])
    await mesh.close()
  })
})

describe('compiled context', () => {
  it('pure holds no permission, admits no function or provider, and caps risk at read-only', () => {
    const pure = securityContext({ level: 'pure' })
    expect(pure.maxRisk).toBe('read-only')
    expect(pure.maxRiskRank).toBe(0)
    expect(pure.holds('image.read')).toBe(false)
    expect(pure.allowsFunction(NAME, true)).toBe(false)
    expect(pure.allowsProvider('p1', true)).toBe(false)
  })
  it('full holds every permission by default, controlled none', () => {
    expect(securityContext({ level: 'full' }).holds('image.write')).toBe(true)
    expect(controlled().holds('image.read')).toBe(false)
    expect(securityContext({ level: 'full', grantedPermissions: ['image.read'] }).holds('image.write')).toBe(
      false,
    )
  })
  it('an exact grant holds only that permission, a prefix grant only permissions under it', () => {
    const exact = controlled({ grantedPermissions: ['image.read'] })
    expect([exact.holds('image.read'), exact.holds('image.reader'), exact.holds('image.rea')]).toEqual([
      true,
      false,
      false,
    ])
    const prefix = controlled({ grantedPermissions: ['image.*', 'text.read'] })
    expect(
      ['image.write', 'images.write', 'image', 'text.read', 'text.write', 'audio.read'].map((p) =>
        prefix.holds(p),
      ),
    ).toEqual([true, false, false, true, false, false])
    const two = controlled({ grantedPermissions: ['image.*', 'text.*'] })
    expect([two.holds('image.read'), two.holds('text.read'), two.holds('audio.read')]).toEqual([
      true,
      true,
      false,
    ])
  })
  it('a provider glob matches dot segments and no trailing slash', () => {
    const ctx = controlled({ allowedProviders: ['acme/*'] })
    expect(['acme/x', 'acme/.edge', 'acme/x/', 'acme'].map((id) => ctx.allowsProvider(id, false))).toEqual([
      true,
      true,
      false,
      false,
    ])
  })
  it('SecurityContext.from returns a compiled context as it is', () => {
    const ctx = controlled()
    expect(SecurityContext.from(ctx)).toBe(ctx)
  })
  it('toJSON gives the normalized input and adds no field', () => {
    expect(
      securityContext({
        level: 'controlled',
        id: 'ops',
        allowedFunctions: ['Acme.com/Image/Sharpen'],
      }).toJSON(),
    ).toStrictEqual({ level: 'controlled', id: 'ops', allowedFunctions: [NAME] })
    expect(
      securityContext({ level: 'controlled', allowedFunctionPatterns: ['acme.com/**'] }).toJSON(),
    ).toStrictEqual({ level: 'controlled', allowedFunctionPatterns: ['acme.com/**'] })
    expect(JSON.stringify(securityContext({ level: 'full', id: 'ops' }))).toBe('{"level":"full","id":"ops"}')
  })
  it('error: refuses an empty id and one over 128 characters', () => {
    expect(securityContext({ level: 'full', id: 'x'.repeat(128) }).id).toBe('x'.repeat(128))
    expect(invalid({ level: 'full', id: '' }).details).toMatchObject({ field: 'id' })
    expect(invalid({ level: 'full', id: 'x'.repeat(129) }).details).toMatchObject({ field: 'id' })
  })
  it('error: refuses a permission grant with characters before or after a valid one', () => {
    for (const grant of ['image read', 'image.read!', '.image.read'])
      expect(invalid({ level: 'full', grantedPermissions: [grant] }).details).toMatchObject({
        field: 'grantedPermissions[0]',
        rule: 'a permission (letters, digits, . _ : / -), a prefix ending in .*, or *',
      })
  })
})
