import type { IncomingMessage } from 'node:http'
import { z } from 'zod'
import type { RecordDraft } from '../src/record/schema.js'
import { importSigner, type PrivateKeyJwk } from '../src/trust/signer.js'
import { json } from './_json.js'
import { isLoopback } from './_loopback.js'
import { type RouteSpec, route } from './_route.js'
import { sameTurn } from './_sameTurn.js'
import { KeyOverNetworkError, NoPeerNodeError } from './errors.js'

const PublishBody = z.strictObject({
  record: z.record(z.string(), z.unknown()).describe('A record draft, as `fmesh publish FILE` reads it'),
  key: z
    .record(z.string(), z.unknown())
    .describe('The publisher private JWK; used for this publish only, never stored'),
  to: z.array(z.string().min(1).max(200)).max(64).optional().describe('Registry ids (default: all)'),
})

const LeaseBody = z.strictObject({
  capabilities: z.array(z.string().min(1).max(600)).min(1).max(256),
  budgets: z.record(z.string(), z.string().regex(/^(0|[1-9][0-9]{0,30})$/, 'integer base units')),
  ttlMs: z.number().int().min(1).optional(),
  id: z.string().min(1).max(256).optional(),
})

const ObjectSchema = { type: 'object' } as const

/**
 * The node's status, served only by a gateway given `node` (the API `fmesh node start` serves), so
 * a plain gateway documents no route it cannot answer.
 */
export const nodeStatusRoutes: readonly RouteSpec[] = [
  route({
    method: 'GET',
    path: '/v1/node',
    operationId: 'node',
    tag: 'peers',
    summary: 'The peer node: id, addresses, uptime, registries, records held, connected peers',
    response: ObjectSchema,
    handle: async ({ gw }) => {
      if (gw.node === undefined) throw new NoPeerNodeError()
      return json(await gw.node())
    },
  }),
]

/** Writes for the CLI on the data dir of a running node, each needing the admin scope. */
export const adminRoutes: readonly RouteSpec[] = [
  route({
    method: 'POST',
    path: '/v1/publish',
    operationId: 'publish',
    tag: 'functions',
    summary: 'Sign a record draft with the key sent and publish it to the registries (admin scope)',
    description:
      'For the CLI on the data dir of a running node: the key travels over loopback with the admin token and is dropped after the publish.',
    scope: 'admin',
    body: PublishBody,
    response: ObjectSchema,
    errors: [401, 403, 409, 413, 415, 429, 502],
    handle: async ({ c, body, gw }) => {
      // The key may cross loopback only: an admin token listed on a gateway open to the network does
      // not make this route a way to send private keys over the wire.
      const remote = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress
      if (remote === undefined || !isLoopback(remote)) throw new KeyOverNetworkError(remote)
      const signer = await importSigner(body.key as unknown as PrivateKeyJwk)
      await sameTurn()
      const r = await gw.mesh.publish(body.record as unknown as RecordDraft, {
        signer,
        ...(body.to === undefined ? {} : { to: body.to }),
      })
      return json({ name: r.name, id: r.id, seq: r.seq, receipts: r.receipts })
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases',
    operationId: 'grantLease',
    tag: 'calls',
    summary: 'Grant a lease: function-name globs it may call and a budget per currency (admin scope)',
    scope: 'admin',
    body: LeaseBody,
    response: ObjectSchema,
    errors: [401, 403, 409, 413, 415, 429],
    handle: async ({ body, gw }) => {
      await sameTurn()
      const lease = await gw.mesh.leases.grant({
        capabilities: body.capabilities,
        budgets: body.budgets,
        ...(body.ttlMs === undefined ? {} : { ttlMs: body.ttlMs }),
        ...(body.id === undefined ? {} : { id: body.id }),
      })
      return json(lease)
    },
  }),
  route({
    method: 'POST',
    path: '/v1/leases/{id}/revoke',
    operationId: 'revokeLease',
    tag: 'calls',
    summary: 'Revoke a lease: calls holding it are refused from now on (admin scope)',
    scope: 'admin',
    params: { id: 'The lease id' },
    body: z.strictObject({}),
    response: ObjectSchema,
    errors: [401, 403, 413, 415, 429],
    handle: async ({ gw, params }) => {
      await sameTurn()
      await gw.mesh.leases.revoke(params.id!)
      return json({ id: params.id, revoked: true })
    },
  }),
]
