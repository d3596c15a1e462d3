import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { health } from './_functionRoutes.js'
import { errorBody, json } from './_json.js'
import type { FeedMessage } from './_liveState.js'
import { type RouteSpec, route } from './_route.js'
import { HealthzSchema, PeersSchema, ProvidersHealthSchema, ReadyzSchema, UsageSchema } from './_schemas.js'

/** Time between keep-alive comments on an idle event stream. */
const HEARTBEAT_MS = 15_000

const epochOrIso = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const ms = /^[0-9]+$/.test(v) ? Number(v) : Date.parse(v)
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 date' })
      return z.NEVER
    }
    return ms
  })

const UI_TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const

export const opsRoutes: readonly RouteSpec[] = [
  route({
    method: 'GET',
    path: '/v1/usage',
    operationId: 'usage',
    tag: 'billing',
    summary:
      'Charges summed exactly per provider, function or principal and currency (amounts in base units)',
    query: z.strictObject({
      by: z.enum(['provider', 'function', 'principal']).optional().describe('default provider'),
      since: epochOrIso.optional(),
      until: epochOrIso.optional(),
    }),
    response: UsageSchema,
    handle: async ({ gw, query }) => {
      const by = query.by ?? 'provider'
      const rows = await gw.mesh.billing.usage({
        by,
        ...(query.since === undefined ? {} : { since: query.since }),
        ...(query.until === undefined ? {} : { until: query.until }),
      })
      return json({ by, rows })
    },
  }),
  route({
    method: 'GET',
    path: '/v1/providers/health',
    operationId: 'providerHealth',
    tag: 'providers',
    summary:
      'Health of every provider this node has called, selected or listed: circuit, latency, success ratio',
    response: ProvidersHealthSchema,
    handle: ({ gw }) => {
      const providers = [...gw.state.providerKeys].sort().map((key) => {
        const space = key.indexOf(' ')
        return { id: key.slice(0, space), endpoint: key.slice(space + 1), ...health(gw.mesh, key) }
      })
      return json({ providers })
    },
  }),
  route({
    method: 'GET',
    path: '/v1/peers',
    operationId: 'peers',
    tag: 'peers',
    summary: "Connected peers and gossip counts (from the peer node's events; empty without one)",
    response: PeersSchema,
    handle: ({ gw }) => json({ peers: [...gw.state.peers.values()], gossip: gw.state.gossip }),
  }),
  route({
    method: 'GET',
    path: '/v1/events',
    operationId: 'events',
    tag: 'live',
    summary: 'Server-sent events: call, publish, change, peer, gossip and service messages as they happen',
    produces: 'text/event-stream',
    handle: ({ c, gw }) =>
      streamSSE(c, async (stream) => {
        let id = 0
        const queue: FeedMessage[] = []
        let wake: (() => void) | undefined
        const off = gw.state.subscribe((message) => {
          if (queue.length < 1000) queue.push(message)
          wake?.()
        })
        let open = true
        const close = () => {
          open = false
          wake?.()
        }
        stream.onAbort(close)
        void gw.stopped.then(close)
        const beat = setInterval(() => void stream.write(': keep-alive\n\n').catch(close), HEARTBEAT_MS)
        beat.unref?.()
        try {
          await stream.writeSSE({
            event: 'hello',
            data: JSON.stringify({ at: gw.clock.now() }),
            id: String(id++),
          })
          while (open) {
            const message = queue.shift()
            if (message === undefined) {
              await new Promise<void>((resolve) => {
                wake = resolve
              })
              wake = undefined
              continue
            }
            await stream.writeSSE({
              event: message.event,
              data: JSON.stringify(message.data),
              id: String(id++),
            })
          }
        } finally {
          clearInterval(beat)
          off()
        }
      }),
  }),
  route({
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics (text exposition format)',
    produces: 'text/plain',
    handle: async ({ gw }) =>
      new Response(await gw.metrics.registry.metrics(), {
        headers: { 'content-type': gw.metrics.registry.contentType },
      }),
  }),
  route({
    method: 'GET',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'operations',
    summary: 'Liveness: the gateway process answers',
    response: HealthzSchema,
    handle: () => json({ ok: true }),
  }),
  route({
    method: 'GET',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'operations',
    summary: 'Readiness: serving, and the ledger opens (503 otherwise)',
    response: ReadyzSchema,
    errors: [503],
    handle: async ({ gw }) => {
      const registries = gw.mesh.registries.map((r) => r.id)
      if (!gw.running()) return json({ ready: false, registries }, 503)
      try {
        return json({ ready: true, registries, ledgerKey: await gw.mesh.lineage.keyId() })
      } catch (err) {
        return json({ ready: false, registries, error: errorBody(err) }, 503)
      }
    },
  }),
  route({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'operations',
    summary: 'This document',
    response: { type: 'object' },
    handle: ({ gw }) => json(gw.openapi()),
  }),
  ...(['index.html', 'app.js', 'app.css'] as const).map((file) =>
    route({
      method: 'GET',
      path: file === 'index.html' ? '/' : `/ui/${file}`,
      operationId: file === 'index.html' ? 'webView' : `webView_${file.replace('.', '_')}`,
      tag: 'web view',
      summary: file === 'index.html' ? 'The operator web view' : `The web view's ${file}`,
      produces: UI_TYPES[file].split(';')[0] as 'text/html',
      handle: ({ gw }) =>
        new Response(gw.ui.get(file) ?? '', {
          headers: {
            'content-type': UI_TYPES[file],
            'cache-control': 'no-cache',
            'x-content-type-options': 'nosniff',
            // The page loads nothing but its own files and this gateway's API.
            'content-security-policy':
              "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
          },
        }),
    }),
  ),
]
