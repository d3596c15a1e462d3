import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { FileNotJsonError, FileReadError } from '../errors/cli.js'
import type { RecordDraft } from '../record/schema.js'
import type { PublishReceipt } from '../registry/types.js'
import { importSigner, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context, nodeArgs, offline } from './_context.js'
import { nodeFor } from './_nodeApi.js'
import { openMesh } from './_openMesh.js'
import { receiptLines } from './_receiptLines.js'

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FileReadError(`Cannot read ${what} ${file}`, {
      details: { file, reason: (err as Error).message },
      cause: err,
    })
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new FileNotJsonError(`${what} ${file} is not JSON`, {
      details: { file, reason: (err as Error).message },
      cause: err,
    })
  }
}

/** `fmesh publish FILE --key KEY`: sign a record draft and write it to the registries. */
export const publishCommand = defineCommand({
  meta: { name: 'publish', description: 'Sign the record draft in FILE with KEY and publish it' },
  args: {
    ...commonArgs,
    ...nodeArgs,
    file: {
      type: 'positional',
      description: 'A record draft (JSON); seq, issuedAt, ttlSeconds, expiresAt may be left out',
      required: true,
    },
    key: {
      type: 'string',
      description: 'The publisher key (a private JWK from `fmesh keys new`)',
      required: true,
    },
    to: { type: 'string', description: 'Registry ids to write to, comma-separated (default: all)' },
  },
  async run({ args }) {
    const { out, configPath, json } = context(args)
    const jwk = (await readJson(args.key, 'the key file')) as PrivateKeyJwk
    const signer = await importSigner(jwk)
    const draft = (await readJson(args.file, 'the record file')) as RecordDraft
    const to = args.to
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const node = await nodeFor(configPath, { offline: offline(args), json })
    let result: { name: string; id: string; seq: number; receipts: readonly PublishReceipt[] }
    if (node !== undefined) {
      // The node holds the data dir: it signs with the key sent (over loopback) and publishes.
      result = await node.request('POST', '/v1/publish', {
        record: draft,
        key: jwk,
        ...(to === undefined ? {} : { to }),
      })
    } else {
      const { mesh } = await openMesh(configPath, { signer })
      try {
        result = await mesh.publish(draft, { signer, ...(to === undefined ? {} : { to }) })
      } finally {
        await mesh.close()
      }
    }
    const via = node?.via ?? 'local'
    out.result({ name: result.name, id: result.id, seq: result.seq, receipts: result.receipts, via }, () => {
      out.line(`published ${result.name} seq ${result.seq}${node ? ` via ${node.via}` : ''}`)
      out.line(`  record  ${result.id}`)
      for (const line of receiptLines(result.receipts)) out.line(line)
    })
  },
})
