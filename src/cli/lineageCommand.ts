import { defineCommand } from 'citty'
import { isMeshError, MeshError } from '../errors/base.js'
import { UsageError } from '../errors/cli.js'
import { verifyInclusion } from '../ledger/checkpoint.js'
import type { LineageEntry } from '../ledger/entry.js'
import { publicKeyFromKeyId } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

/** A `--key` value: an ed25519 `did:key`, refused before anything is opened otherwise. */
function parseKeyId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  if (publicKeyFromKeyId(text) === undefined) {
    throw new UsageError(
      `--key must be an ed25519 did:key (did:key:z6Mk...), not ${text}`,
      { flag: '--key', value: text },
      'Use the key id `fmesh lineage key` printed when you published it.',
    )
  }
  return text
}

/** An entry's fields a reader looks for first, by type (the whole entry is in --json). */
function keyFields(entry: LineageEntry): string {
  const head = `attempt ${entry.attempt}  ${entry.function}@${entry.version}  provider ${entry.provider}  principal ${entry.principal}`
  switch (entry.type) {
    case 'FUNCTION_INVOKED':
      return `${head}\n      endpoint ${entry.endpoint}  reason ${entry.reason}${entry.idempotencyKey === undefined ? '' : `  key ${entry.idempotencyKey}`}${entry.lease === undefined ? '' : `  lease ${entry.lease}`}`
    case 'FUNCTION_COMPLETED':
      return `${head}\n      ${entry.durationMs} ms  charge ${entry.charge.currency === null ? 'free' : `${entry.charge.amount} ${entry.charge.currency}`}  output ${entry.outputCid}`
    case 'FUNCTION_FAILED':
      return `${head}\n      ${entry.durationMs} ms  ${entry.error.code}: ${entry.error.message}${entry.sent ? '' : '  (not sent)'}${entry.recovered ? '  (closed by crash recovery)' : ''}`
  }
}

/** `fmesh lineage show ID | proof ID | verify | key`. */
export const lineageCommand = defineCommand({
  meta: { name: 'lineage', description: 'Read and check the lineage log' },
  subCommands: {
    show: defineCommand({
      meta: {
        name: 'show',
        description: 'Print the entries of one call (every attempt), in log order',
      },
      args: {
        ...commonArgs,
        invocation: {
          type: 'positional',
          description: 'The invocation id (`fmesh call` and `fmesh calls` print it)',
          required: true,
        },
      },
      async run({ args }) {
        const { out, configPath } = context(args)
        const { mesh } = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        try {
          const entries = await mesh.lineage.entries(args.invocation)
          if (entries.length === 0)
            throw new MeshError(
              'E_LINEAGE_ENTRY_NOT_FOUND',
              `No lineage entries for invocation ${args.invocation}`,
              {
                details: { invocation: args.invocation },
                hint: 'Use an invocation id that `fmesh calls` lists for this data dir.',
              },
            )
          out.result({ invocation: args.invocation, entries }, () => {
            for (const { id, entry } of entries) {
              out.line(`#${entry.seq}  ${entry.type.padEnd(18)}  ${new Date(entry.at).toISOString()}  ${id}`)
              out.line(`      ${keyFields(entry)}`)
            }
            out.line(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`)
          })
        } finally {
          await mesh.close()
        }
      },
    }),
    proof: defineCommand({
      meta: {
        name: 'proof',
        description:
          'Print an inclusion proof of one entry and the signed checkpoint it is against (JSON; check it offline with verifyInclusion)',
      },
      args: {
        ...commonArgs,
        entry: {
          type: 'positional',
          description: 'The entry id (a CID, from `fmesh lineage show`)',
          required: true,
        },
      },
      async run({ args }) {
        const { out, configPath } = context(args)
        // Read-only first: a signed checkpoint covers every entry once its writer closed. An entry
        // no checkpoint covers yet (its call is still running) needs one signed: as a writer.
        let { mesh } = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        try {
          const proof = await mesh.lineage.proof(args.entry).catch(async (err: unknown) => {
            if (!isMeshError(err, 'E_LEDGER_READ_ONLY')) throw err
            await mesh.close()
            mesh = (await openMesh(configPath, { ledgerOnly: true })).mesh
            return mesh.lineage.proof(args.entry)
          })
          const keyId = await mesh.lineage.keyId()
          // Checked here against the ledger's own key; a reader pins the key id the operator published.
          const doc = { ...proof, verified: verifyInclusion(proof, { keyId }) }
          // A proof is meant to be handed on and checked elsewhere: JSON with or without --json.
          out.result(doc, () => process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`))
        } finally {
          await mesh.close()
        }
      },
    }),
    verify: defineCommand({
      meta: {
        name: 'verify',
        description: 'Re-check every entry, link, charge and signed checkpoint of the ledger',
      },
      args: {
        ...commonArgs,
        key: {
          type: 'string',
          description: 'The ledger key id (did:key) every checkpoint must be signed by, as you published it',
        },
      },
      async run({ args }) {
        const { out, configPath } = context(args)
        const keyId = parseKeyId(args.key)
        const { mesh } = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        try {
          const report = await mesh.lineage.verify(keyId === undefined ? {} : { keyId })
          out.result(report, () => {
            out.line(
              `${report.ok ? 'ok' : 'FAILED'}: ${report.entries} entries, ${report.completed} completed, ${report.charges} charges, ${report.checkpoints} checkpoints`,
            )
            out.line(`  root    ${report.root}`)
            for (const key of report.keys) out.line(`  signed  ${key}`)
            out.line(
              report.pinned
                ? `  key     ${report.keyId} (pinned with --key)`
                : `  key     ${report.keyId} (the ledger's key file; not pinned: pass --key with the key id you published)`,
            )
          })
          if (!report.ok && report.error) throw report.error
        } finally {
          await mesh.close()
        }
      },
    }),
    key: defineCommand({
      meta: {
        name: 'key',
        description: "Print the ledger's checkpoint key id (did:key), to publish and pin with `verify --key`",
      },
      args: { ...commonArgs },
      async run({ args }) {
        const { out, configPath } = context(args)
        const { mesh } = await openMesh(configPath, { ledgerOnly: true, ledgerReadOnly: true })
        try {
          const keyId = await mesh.lineage.keyId()
          out.result({ keyId }, () => out.line(keyId))
        } finally {
          await mesh.close()
        }
      },
    }),
  },
})
