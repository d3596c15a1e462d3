import semver from 'semver'
import { z } from 'zod'
import { isMeshError } from '../src/errors/base.js'
import { providerKey } from '../src/health/HealthTracker.js'
import type { Mesh } from '../src/mesh.js'
import { parseFunctionName } from '../src/name.js'
import type { Provider } from '../src/record/schema.js'
import { compileNamePattern } from '../src/registry/namePattern.js'
import type { ResolveResult } from '../src/resolve/types.js'
import type { SelectOptions, SelectResult } from '../src/select/types.js'
import { STRATEGY_NAMES } from '../src/select/types.js'
import { errorBody, json, jsonText, stringify } from './_json.js'
import type { LiveState } from './_liveState.js'
import { type RouteSpec, route } from './_route.js'
import { FunctionListSchema, ResolveSchema, SelectSchema } from './_schemas.js'
import { RequestInvalidError } from './errors.js'

const flag = z.enum(['true', 'false']).transform((v) => v === 'true')
const nameParam = z
  .string()
  .min(1)
  .max(600)
  .describe('NAME[@VERSION|@RANGE], e.g. acme.com/image/sharpen@^1.2')

/** Longest a registry listing may take before the list answers without it. */
const LIST_TIMEOUT_MS = 5_000

/** Serialized resolve answers, per result object (the marketplace and the cache hand back the same one). */
const resolveText = new WeakMap<ResolveResult, string>()

export const functionRoutes: readonly RouteSpec[] = [
  route({
    method: 'GET',
    path: '/v1/functions',
    operationId: 'listFunctions',
    tag: 'functions',
    summary: 'List and search functions: local marketplace functions and the names the registries list',
    description:
      'With details=true each listed name is resolved (through the cache) to add its versions, providers and their health.',
    query: z.strictObject({
      q: z.string().max(200).optional().describe('Case-insensitive substring of the name (or description)'),
      pattern: z
        .string()
        .max(256)
        .optional()
        .describe('Glob over names (`*` in a segment, `**` across); default **'),
      limit: z.coerce.number().int().min(1).max(1000).optional().describe('Most names; default 100'),
      details: flag.optional().describe('Resolve each name for versions, providers and health'),
    }),
    response: FunctionListSchema,
    handle: async ({ gw, query }) => json(await listFunctions(gw.mesh, gw.state, query)),
  }),
  route({
    method: 'GET',
    path: '/v1/resolve',
    operationId: 'resolve',
    tag: 'functions',
    summary: 'Resolve a name to a verified record version and its providers, saying where it came from',
    query: z.strictObject({
      name: nameParam,
      includeDeprecated: flag.optional(),
      cache: z.enum(['use', 'refresh']).optional(),
    }),
    response: ResolveSchema,
    errors: [404, 502, 503],
    handle: async ({ gw, query }) => {
      const options =
        query.includeDeprecated === undefined && query.cache === undefined
          ? undefined
          : {
              ...(query.includeDeprecated === undefined
                ? {}
                : { includeDeprecated: query.includeDeprecated }),
              ...(query.cache === undefined ? {} : { cache: query.cache }),
            }
      return jsonText(resolveAnswer(await gw.mesh.resolve(query.name, options)))
    },
  }),
  route({
    method: 'GET',
    path: '/v1/select',
    operationId: 'select',
    tag: 'functions',
    summary:
      'Pick a provider as a call would: the choice, the reason, the candidates and what removed the others',
    description:
      "With a bearer token, selection runs under the token's security context; without one, under the mesh's.",
    optionalAuth: true,
    query: z.strictObject({
      name: nameParam,
      strategy: z.enum(STRATEGY_NAMES).optional(),
      maxCost: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,32}:[0-9]{1,40}$/, 'must be UNIT:BASEUNITS, e.g. USDC:10000')
        .optional()
        .describe('Remove providers costing more per call, as UNIT:BASEUNITS'),
      includeDeprecated: flag.optional(),
    }),
    response: SelectSchema,
    errors: [401, 402, 403, 502, 503],
    handle: async ({ gw, query, principal }) => {
      const options: SelectOptions = {}
      if (query.strategy !== undefined) options.strategy = query.strategy
      if (query.includeDeprecated !== undefined) options.includeDeprecated = query.includeDeprecated
      if (query.maxCost !== undefined) {
        const [unit, baseUnits] = query.maxCost.split(':') as [string, string]
        options.maxCost = { unit, baseUnits }
      }
      const s = await gw.mesh.select(query.name, principal?.context, options)
      return json(selectBody(s, gw.mesh, gw.state))
    },
  }),
]

/**
 * The resolve answer's JSON text, serialized once per result: a resolution is immutable until its
 * record changes, and the marketplace and the resolve cache hand back the same result object until
 * then (a newer record, a yank or an expiry makes a new one, which is serialized afresh).
 */
export function resolveAnswer(r: ResolveResult): string {
  let text = resolveText.get(r)
  if (text === undefined) {
    text = stringify({
      name: r.name,
      version: r.version,
      recordId: r.recordId,
      source: r.source,
      verified: r.verified,
      descriptor: r.descriptor,
      providers: r.providers,
      record: r.record,
      ...(r.report === undefined ? {} : { report: r.report }),
    })
    resolveText.set(r, text)
  }
  return text
}

function selectBody(s: SelectResult, mesh: Mesh, state: LiveState) {
  state.providerKeys.add(s.providerKey)
  return {
    name: s.name,
    version: s.version,
    provider: s.provider,
    providerKey: s.providerKey,
    strategy: s.strategy,
    reason: s.reason,
    candidates: s.candidates.map((c) => {
      state.providerKeys.add(c.key)
      return { provider: c.provider, key: c.key, cost: c.cost, unit: c.unit, health: health(mesh, c.key) }
    }),
    removed: s.removed,
    ...(s.ejection === undefined ? {} : { ejection: s.ejection }),
  }
}

/** A provider's health now; an untracked provider has a closed circuit and no samples. */
export function health(mesh: Mesh, key: string) {
  return mesh.health.snapshot(key) ?? { key, circuit: 'closed', inFlight: 0, samples: 0 }
}

interface ListQuery {
  q?: string | undefined
  pattern?: string | undefined
  limit?: number | undefined
  details?: boolean | undefined
}

async function listFunctions(mesh: Mesh, state: LiveState, query: ListQuery) {
  const pattern = query.pattern ?? '**'
  let match: (name: string) => boolean
  try {
    match = compileNamePattern(pattern)
  } catch (err) {
    throw new RequestInvalidError(
      'query',
      'pattern',
      isMeshError(err) ? String(err.details.rule) : 'invalid glob',
    )
  }
  const limit = query.limit ?? 100
  const q = query.q?.toLowerCase()
  const found = new Map<string, { name: string; sources: string[]; description?: string }>()
  const add = (name: string, source: string, description?: string) => {
    if (q !== undefined && !name.includes(q) && !(description ?? '').toLowerCase().includes(q)) return
    const entry = found.get(name) ?? { name, sources: [] }
    if (!entry.sources.includes(source)) entry.sources.push(source)
    if (description !== undefined && entry.description === undefined) entry.description = description
    found.set(name, entry)
  }
  for (const fn of mesh.marketplace.functions()) {
    if (!match(fn.name)) continue
    add(fn.name, 'marketplace', mesh.marketplace.match(parseFunctionName(fn.name))?.record.description)
  }
  const registries = await Promise.all(
    mesh.registries.map(async (registry) => {
      const signal = AbortSignal.timeout(LIST_TIMEOUT_MS)
      let names = 0
      try {
        for await (const name of registry.list(pattern, { signal })) {
          names++
          add(name, registry.id)
          if (names > limit * 4) break
        }
        return { id: registry.id, status: 'ok' as const, names }
      } catch (err) {
        return { id: registry.id, status: 'error' as const, names, error: errorBody(err) }
      }
    }),
  )
  const all = [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const listed = all.slice(0, limit)
  const functions = query.details === true ? await withDetails(mesh, state, listed) : listed
  return { functions, registries, truncated: all.length > limit }
}

async function withDetails(
  mesh: Mesh,
  state: LiveState,
  listed: readonly { name: string; sources: string[]; description?: string }[],
) {
  const out: unknown[] = []
  for (let i = 0; i < listed.length; i += 8) {
    const chunk = listed.slice(i, i + 8)
    out.push(
      ...(await Promise.all(
        chunk.map(async (entry) => {
          try {
            const r = await mesh.resolve(entry.name)
            const versions = Object.entries(r.record.versions)
              .sort(([a], [b]) => semver.rcompare(a, b))
              .map(([version, v]) => ({
                version,
                deprecated: v.deprecated,
                yanked: v.yanked,
                providers: v.providers.map((p: Provider) => {
                  const key = providerKey(p)
                  state.providerKeys.add(key)
                  return { ...p, health: health(mesh, key) }
                }),
              }))
            return {
              ...entry,
              ...(r.record.description === undefined ? {} : { description: r.record.description }),
              latestVersion: r.version,
              source: r.source,
              versions,
            }
          } catch (err) {
            return { ...entry, error: errorBody(err) }
          }
        }),
      )),
    )
  }
  return out
}
