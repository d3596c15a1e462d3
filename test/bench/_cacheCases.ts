import { systemClock } from '../../src/clock.js'
import { canonicalBytes } from '../../src/record/codec.js'
import { Resolver } from '../../src/resolve/Resolver.js'
import type { RecordVerifier, VerifiedRecord } from '../../src/trust/RecordVerifier.js'
import { memorySeqLedger } from '../../src/trust/SeqLedger.js'
import type { LocalSigner } from '../../src/trust/signer.js'
import { signed } from '../_helpers/records.js'
import { perItem, settledMemory } from './_scale.js'

/**
 * The resolver cache's memory per record for record shapes beside the scale bench's own rows: records
 * whose schemas differ from record to record (nothing in a descriptor repeats between names), and a
 * typical small record (one version, one provider). As in the main rows, every entry holds its own
 * deep copy of a verified record under its own name and id, and its computed warm answer.
 */

/**
 * A deep copy of `template` under `name`, with its own id and its own canonical bytes (those of the
 * copy, as a registry would hand them over; the copy is not signed again).
 */
export function copyOf(
  template: VerifiedRecord,
  name: string,
  i: number,
  change?: (record: VerifiedRecord['record']) => void,
): VerifiedRecord {
  const record = JSON.parse(JSON.stringify(template.record)) as VerifiedRecord['record']
  ;(record as { name: string }).name = name
  change?.(record)
  return {
    record,
    id: `${template.id.slice(0, -10)}${i.toString(36).padStart(10, '0')}`,
    bytes: canonicalBytes(record),
    keyId: template.keyId,
    trustSource: template.trustSource,
  }
}

/**
 * A copy whose descriptor schemas are its own: each version's input schema gains a property named
 * after the record, so no two records share a descriptor (a record's versions still share one, as a
 * published record's versions do).
 */
export function distinctSchemaCopy(template: VerifiedRecord, name: string, i: number): VerifiedRecord {
  return copyOf(template, name, i, (record) => {
    for (const version of Object.values(record.versions)) {
      const schema = version.descriptor.inputSchema as {
        properties: Record<string, unknown>
        required: string[]
      }
      schema.properties[`field${i}`] = {
        type: 'string',
        description: `the ${name} input field ${i}`,
        maxLength: 1000 + i,
      }
      schema.required = [...schema.required, `field${i}`]
    }
  })
}

/** A small, typical record: one version, one provider, a short schema. */
export function smallRecord(key: LocalSigner, name: string) {
  return signed(key, name, 1, {
    description: 'Resize an image',
    latestVersion: '1.0.0',
    versions: {
      '1.0.0': {
        deprecated: false,
        yanked: false,
        descriptor: {
          inputSchema: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
          maxRisk: 'read-only',
          idempotency: 'idempotent',
          allowedByDefault: false,
        },
        providers: [
          {
            id: 'provider-1',
            endpoint: 'https://provider-1.example/resize',
            cost: { unit: 'USDC', baseUnits: '1000' },
          },
        ],
      },
    },
  })
}

/** Bytes per cached record (heap, off-heap) for `n` names, each holding `make(i)` and its warm answer. */
export async function cacheMemoryPerRecord(
  verifier: RecordVerifier,
  names: readonly string[],
  make: (i: number) => VerifiedRecord,
): Promise<{ total: number; heap: number; external: number }> {
  const n = names.length
  const before = await settledMemory()
  const resolver = new Resolver({
    registries: [],
    verifier,
    seqLedger: memorySeqLedger(),
    clock: systemClock,
    cache: { max: n },
  })
  for (let i = 0; i < n; i++) resolver.cache.setFound(names[i]!, make(i), 'bench')
  for (let i = 0; i < n; i++) await resolver.resolve(names[i]!)
  const mem = perItem(before, await settledMemory(), n)
  if (resolver.cache.size !== n)
    throw new Error(`the cache holds ${resolver.cache.size} names, expected ${n}`)
  resolver.cache.clear()
  return mem
}
