import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { FileReadError, UsageError, VersionNotInRecordError } from '../errors/cli.js'
import { parseFunctionName } from '../name.js'
import type { RecordDraft } from '../record/schema.js'
import { importSigner, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context } from './_context.js'
import { openMesh } from './_openMesh.js'

type Mark = 'yank' | 'deprecate'

async function signerFrom(file: string) {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FileReadError(`Cannot read the key file ${file}`, {
      details: { file, reason: (err as Error).message },
      hint: 'Pass --key with the private JWK `fmesh keys new` (or `fmesh init --namespace`) wrote.',
      cause: err,
    })
  }
  try {
    return await importSigner(JSON.parse(text) as PrivateKeyJwk)
  } catch (err) {
    throw new MeshError('E_KEY_INVALID', `${file} is not a publisher key`, {
      details: { file },
      hint: 'Pass --key with the private JWK `fmesh keys new` wrote.',
      cause: err,
    })
  }
}

/**
 * Marks one version of a published record yanked (never picked by a range; callers pinned to it are
 * refused) or deprecated (picked only when asked for exactly), as a new record with the next seq, so
 * every registry, cache and peer replaces the old one as it would any update.
 */
function markCommand(mark: Mark) {
  return defineCommand({
    meta: {
      name: mark,
      description:
        mark === 'yank'
          ? 'Yank NAME@VERSION: republish the record with that version yanked (signed with KEY)'
          : 'Deprecate NAME@VERSION: republish the record with that version deprecated (signed with KEY)',
    },
    args: {
      ...commonArgs,
      ref: { type: 'positional', description: 'NAME@VERSION, an exact version', required: true },
      key: { type: 'string', description: 'A publisher key of the namespace (private JWK)', required: true },
      message: { type: 'string', description: 'Why, shown to callers (deprecationMessage)' },
      to: { type: 'string', description: 'Registry ids to write to, comma-separated (default: all)' },
    },
    async run({ args }) {
      const { out, configPath } = context(args)
      const ref = parseFunctionName(args.ref)
      if (ref.selector.kind !== 'exact')
        throw new UsageError(
          `${args.ref} does not name one exact version`,
          { ref: args.ref },
          `Name the version to ${mark}: ${ref.name}@1.2.0.`,
        )
      const version = ref.selector.version
      const signer = await signerFrom(args.key)
      const { mesh } = await openMesh(configPath, { signer })
      try {
        const current = await mesh.resolve(`${ref.name}@${version}`, {
          cache: 'refresh',
          includeDeprecated: true,
        })
        const record = current.record
        if (!(version in record.versions))
          throw new VersionNotInRecordError(ref.name, version, Object.keys(record.versions))
        const {
          namespace: _n,
          seq: _s,
          issuedAt: _i,
          ttlSeconds: _t,
          expiresAt: _e,
          signatures: _g,
          ...rest
        } = record
        const entry = record.versions[version]!
        const draft: RecordDraft = {
          ...rest,
          versions: {
            ...record.versions,
            [version]: {
              ...entry,
              ...(mark === 'yank' ? { yanked: true } : { deprecated: true }),
              ...(args.message === undefined ? {} : { deprecationMessage: args.message }),
            },
          },
        }
        const to = args.to
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        const result = await mesh.publish(draft, { signer, ...(to === undefined ? {} : { to }) })
        out.result(
          { name: result.name, version, mark, id: result.id, seq: result.seq, receipts: result.receipts },
          () => {
            out.line(
              `${mark === 'yank' ? 'yanked' : 'deprecated'} ${result.name}@${version} (seq ${result.seq})`,
            )
            for (const r of result.receipts)
              out.line(`  stored  ${r.registry}${r.location ? ` at ${r.location}` : ''}`)
          },
        )
      } finally {
        await mesh.close()
      }
    },
  })
}

export const yankCommand = markCommand('yank')
export const deprecateCommand = markCommand('deprecate')
