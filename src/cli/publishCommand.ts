import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { FileNotJsonError, FileReadError } from '../errors/cli.js'
import type { RecordDraft } from '../record/schema.js'
import { importSigner, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

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
    const { out, configPath } = context(args)
    const signer = await importSigner((await readJson(args.key, 'the key file')) as PrivateKeyJwk)
    const draft = (await readJson(args.file, 'the record file')) as RecordDraft
    const { mesh } = await openMesh(configPath, { signer })
    try {
      const to = args.to
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const result = await mesh.publish(draft, { signer, ...(to === undefined ? {} : { to }) })
      out.result({ name: result.name, id: result.id, seq: result.seq, receipts: result.receipts }, () => {
        out.line(`published ${result.name} seq ${result.seq}`)
        out.line(`  record  ${result.id}`)
        for (const r of result.receipts)
          out.line(`  stored  ${r.registry}${r.location ? ` at ${r.location}` : ''}`)
      })
    } finally {
      await mesh.close()
    }
  },
})
