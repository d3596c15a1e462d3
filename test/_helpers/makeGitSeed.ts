import '../../src/_polyfill.js'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { REPOSITORY_README } from '../../registries/git/_layout.js'
import type { RecordDraft } from '../../src/record/schema.js'
import { signRecord } from '../../src/record/signRecord.js'
import { generateSigner, importSigner, type LocalSigner, type PrivateKeyJwk } from '../../src/trust/signer.js'
import { sampleDraft } from './records.js'

// Regenerates fixtures/git-seed/ (signed example records as plain files) and, when missing, the
// test-only publisher keys in fixtures/keys/. Run: npx tsx test/_helpers/makeGitSeed.ts
// Output is committed; test/_helpers/seedRepo.ts turns it into a Git repository.

const fixtures = join(import.meta.dirname, '../../fixtures')
const ISSUED_AT = '2026-01-01T00:00:00.000Z'
const EXPIRES_AT = '2036-01-01T00:00:00.000Z'

async function key(namespace: string): Promise<LocalSigner> {
  const file = join(fixtures, 'keys', `${namespace}.publisher.jwk.json`)
  try {
    return await importSigner(JSON.parse(await readFile(file, 'utf8')) as PrivateKeyJwk)
  } catch {
    const signer = await generateSigner()
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, `${JSON.stringify(signer.exportJwk(), null, 2)}\n`)
    return signer
  }
}

const descriptor = (maxRisk: 'read-only' | 'mutation', idempotency: 'idempotent' | 'at-least-once') => ({
  inputSchema: { type: 'object' },
  outputSchema: { type: 'object' },
  maxRisk,
  idempotency,
  allowedByDefault: true,
  maxDurationMs: 5000,
  triggerEvents: [],
})

const provider = (id: string, endpoint: string, baseUnits: string, ms: number) => ({
  id,
  endpoint,
  slaTier: 'standard',
  cost: { unit: 'USDC', baseUnits },
  avgResponseTimeMs: ms,
})

const drafts: { draft: RecordDraft; seq: number }[] = [
  { draft: sampleDraft('acme.com/image/sharpen'), seq: 3 },
  {
    seq: 2,
    draft: {
      name: 'acme.com/image/blur',
      description: 'Gaussian blur; 1.1.0 was yanked for a wrong kernel',
      latestVersion: '1.1.1',
      versions: {
        '1.0.0': {
          deprecated: true,
          yanked: false,
          deprecationMessage: 'use 1.1.1',
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('acme-blur', 'https://blur.acme.example/v1', '2000', 90)],
        },
        '1.1.0': {
          deprecated: false,
          yanked: true,
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('acme-blur', 'https://blur.acme.example/v1.1', '2000', 80)],
        },
        '1.1.1': {
          deprecated: false,
          yanked: false,
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('acme-blur', 'https://blur.acme.example/v1.1', '2000', 80)],
        },
      },
    },
  },
  {
    seq: 1,
    draft: {
      name: 'acme.com/text/nlp/sentiment',
      description: 'Sentiment of a text, -1..1',
      latestVersion: '0.3.0',
      versions: {
        '0.3.0': {
          deprecated: false,
          yanked: false,
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('acme-nlp', 'https://nlp.acme.example/sentiment', '500', 40)],
        },
      },
    },
  },
  {
    seq: 4,
    draft: {
      name: 'beta.org/data/csv-to-json',
      description: 'Converts CSV to JSON rows',
      latestVersion: '2.1.0',
      versions: {
        '1.9.0': {
          deprecated: true,
          yanked: false,
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('beta-csv', 'https://csv.beta.example/v1', '100', 20)],
        },
        '2.1.0': {
          deprecated: false,
          yanked: false,
          descriptor: descriptor('read-only', 'idempotent'),
          providers: [provider('beta-csv', 'https://csv.beta.example/v2', '150', 15)],
        },
      },
    },
  },
  {
    seq: 1,
    draft: {
      name: 'beta.org/ledger/append',
      description: 'Appends an entry to a ledger (a mutation, retried at least once)',
      latestVersion: '1.0.0',
      versions: {
        '1.0.0': {
          deprecated: false,
          yanked: false,
          descriptor: descriptor('mutation', 'at-least-once'),
          providers: [provider('beta-ledger', 'https://ledger.beta.example/append', '1000', 120)],
        },
      },
    },
  },
]

const seed = join(fixtures, 'git-seed')
await rm(seed, { recursive: true, force: true })
await mkdir(seed, { recursive: true })
await writeFile(join(seed, 'README.md'), REPOSITORY_README)
for (const { draft, seq } of drafts) {
  const namespace = draft.name.split('/')[0]!
  const { bytes } = await signRecord(
    { ...draft, namespace, seq, issuedAt: ISSUED_AT, ttlSeconds: 300, expiresAt: EXPIRES_AT, signatures: [] },
    await key(namespace),
  )
  const file = join(seed, 'records', `${draft.name}.json`)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, bytes)
}
