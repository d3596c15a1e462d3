import { readFile } from 'node:fs/promises'
import { defineCommand } from 'citty'
import { MeshError } from '../errors/base.js'
import { FileReadError, UsageError, VersionNotInRecordError } from '../errors/cli.js'
import { parseFunctionName } from '../name.js'
import type { FunctionRecord, RecordDraft } from '../record/schema.js'
import type { PublishReceipt } from '../registry/types.js'
import { importSigner, type PrivateKeyJwk } from '../trust/signer.js'
import { commonArgs, context, nodeArgs, offline } from './_context.js'
import { type NodeClient, nodeFor } from './_nodeApi.js'
import { openMesh } from './_openMesh.js'
import { receiptLines } from './_receiptLines.js'

interface Published {
  name: string
  id: string
  seq: number
  receipts: readonly PublishReceipt[]
}

/** Where the mark is made: on the node running on the data dir, or here on the data dir itself. */
interface MarkPath {
  current(ref: string): Promise<FunctionRecord>
  publish(draft: RecordDraft, to: string[] | undefined): Promise<Published>
  close(): Promise<void>
}

function onNode(node: NodeClient, jwk: PrivateKeyJwk): MarkPath {
  return {
    current: async (ref) =>
      (
        await node.request<{ record: FunctionRecord }>(
          'GET',
          `/v1/resolve?${new URLSearchParams({ name: ref, includeDeprecated: 'true', cache: 'refresh' })}`,
        )
      ).record,
    publish: (draft, to) =>
      node.request<Published>('POST', '/v1/publish', {
        record: draft,
        key: jwk,
        ...(to === undefined ? {} : { to }),
      }),
    close: async () => {},
  }
}

async function here(configPath: string | undefined, signer: Awaited<ReturnType<typeof importSigner>>) {
  const { mesh } = await openMesh(configPath, { signer })
  return {
    current: async (ref: string) =>
      (await mesh.resolve(ref, { cache: 'refresh', includeDeprecated: true })).record,
    publish: (draft: RecordDraft, to: string[] | undefined) =>
      mesh.publish(draft, { signer, ...(to === undefined ? {} : { to }) }),
    close: () => mesh.close(),
  } satisfies MarkPath
}

type Mark = 'yank' | 'deprecate'

async function signerFrom(
  file: string,
): Promise<{ jwk: PrivateKeyJwk; signer: Awaited<ReturnType<typeof importSigner>> }> {
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
    const jwk = JSON.parse(text) as PrivateKeyJwk
    return { jwk, signer: await importSigner(jwk) }
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
      ...nodeArgs,
      ref: { type: 'positional', description: 'NAME@VERSION, an exact version', required: true },
      key: { type: 'string', description: 'A publisher key of the namespace (private JWK)', required: true },
      message: { type: 'string', description: 'Why, shown to callers (deprecationMessage)' },
      to: { type: 'string', description: 'Registry ids to write to, comma-separated (default: all)' },
    },
    async run({ args }) {
      const { out, configPath, json } = context(args)
      const ref = parseFunctionName(args.ref)
      if (ref.selector.kind !== 'exact')
        throw new UsageError(
          `${args.ref} does not name one exact version`,
          { ref: args.ref },
          `Name the version to ${mark}: ${ref.name}@1.2.0.`,
        )
      const version = ref.selector.version
      const { jwk, signer } = await signerFrom(args.key)
      const node = await nodeFor(configPath, { offline: offline(args), json })
      const path = node === undefined ? await here(configPath, signer) : onNode(node, jwk)
      try {
        const record = await path.current(`${ref.name}@${version}`)
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
        const result = await path.publish(draft, to)
        const via = node?.via ?? 'local'
        out.result(
          {
            name: result.name,
            version,
            mark,
            id: result.id,
            seq: result.seq,
            receipts: result.receipts,
            via,
          },
          () => {
            out.line(
              `${mark === 'yank' ? 'yanked' : 'deprecated'} ${result.name}@${version} (seq ${result.seq})${node ? ` via ${node.via}` : ''}`,
            )
            for (const line of receiptLines(result.receipts)) out.line(line)
          },
        )
      } finally {
        await path.close()
      }
    },
  })
}

export const yankCommand = markCommand('yank')
export const deprecateCommand = markCommand('deprecate')
