import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInvoker } from '../../src/invoke/Invoker.js'
import type { CallOptions, Choice, HealthHook, InvokerDeps } from '../../src/invoke/types.js'
import { type Ledger, openLedger } from '../../src/ledger/Ledger.js'
import { Marketplace } from '../../src/marketplace/Marketplace.js'
import type { Descriptor, Provider } from '../../src/record/schema.js'
import { httpTransport } from '../../src/transport/httpTransport.js'
import { localTransport } from '../../src/transport/localTransport.js'

export const NAME = 'acme.com/image/sharpen'

export const descriptor = (overrides: Partial<Descriptor> = {}): Descriptor => ({
  inputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
  outputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
  maxRisk: 'read-only',
  idempotency: 'idempotent',
  allowedByDefault: false,
  ...overrides,
})

export const provider = (id: string, endpoint: string, baseUnits?: string): Provider => ({
  id,
  endpoint,
  ...(baseUnits === undefined ? {} : { cost: { unit: 'USDC', baseUnits } }),
})

/** An invoker over a fresh ledger file, choosing the given providers in order (selection is issue 3's). */
export async function setup(
  choose: (name: string, options: CallOptions) => Choice,
  extra: Partial<InvokerDeps> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'fmesh-invoke-'))
  const ledger: Ledger = await openLedger({ path: join(dir, 'ledger.sqlite') })
  const marketplace = new Marketplace()
  const outcomes: string[] = []
  const health: HealthHook = {
    begin: (p) => ({
      success: () => outcomes.push(`${p.id}:ok`),
      failure: (_ms, kind) => outcomes.push(`${p.id}:${kind}`),
      cancel: () => outcomes.push(`${p.id}:cancel`),
    }),
  }
  const invoker = createInvoker({
    ledger: async () => ledger,
    choose: async (name, options) => choose(name, options),
    transports: [localTransport(marketplace), httpTransport()],
    health,
    ...extra,
  })
  return {
    invoker,
    ledger,
    marketplace,
    outcomes,
    dir,
    close: async () => {
      await ledger.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const choice = (providers: Provider[], d: Descriptor = descriptor()): Choice => ({
  name: NAME,
  version: '1.0.0',
  descriptor: d,
  recordId: 'bagaaieratest',
  providers,
  reason: 'test order',
})
