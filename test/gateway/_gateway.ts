import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type HttpGatewayFactory, type HttpGatewayInit, httpGateway } from '../../gateway/index.js'
import { generateToken } from '../../gateway/tokens.js'
import { createMesh, type Mesh } from '../../src/mesh.js'
import { memoryRegistry } from '../../src/registry/memoryRegistry.js'
import { generateSigner, type LocalSigner } from '../../src/trust/signer.js'
import { upperFunction } from '../_helpers/upper.js'

/** A mesh on a fresh data dir with a memory registry, the upper function and a gateway on 127.0.0.1:0. */
export interface GatewayFixture {
  mesh: Mesh
  gateway: HttpGatewayFactory
  url: string
  signer: LocalSigner
  /** A token with every scope, as principal `app`. */
  token: string
  /** A token that may call but not dispatch, as principal `reader`. */
  callOnly: string
  dir: string
  close(): Promise<void>
}

export async function startGateway(init: HttpGatewayInit = {}): Promise<GatewayFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-gateway-'))
  const signer = await generateSigner()
  const all = generateToken()
  const callOnly = generateToken()
  const gateway = httpGateway({
    port: 0,
    tokens: [
      { tokenHash: all.tokenHash, principal: 'app' },
      { tokenHash: callOnly.tokenHash, principal: 'reader', scopes: ['call'] },
    ],
    ...init,
  })
  const mesh = await createMesh({
    dataDir: dir,
    registries: [memoryRegistry({ id: 'mem' })],
    trust: { owners: { 'acme.com': [signer.id] } },
    services: [gateway],
  })
  upperFunction('10').register(mesh.marketplace)
  return {
    mesh,
    gateway,
    url: gateway.url,
    signer,
    token: all.token,
    callOnly: callOnly.token,
    dir,
    close: async () => {
      await mesh.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** POSTs JSON with a bearer token. */
export function post(
  url: string,
  body: unknown,
  options: { token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(body),
  })
}
