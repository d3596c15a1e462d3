import { readFile, writeFile } from 'node:fs/promises'
import { Ajv } from 'ajv'
import { defineCommand } from 'citty'
import { findNodeAtLocation, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser'
import { MeshError } from '../errors/base.js'
import { FileReadError, FileWriteError, RecordLintError } from '../errors/cli.js'
import { normalizeRecordName, parseFunctionName } from '../name.js'
import { validateRecord } from '../record/validate.js'
import { commonArgs, context } from './_context.js'

/** A complete draft for `name`: one version, one HTTP provider, schemas, costs; for the publisher to edit. */
export function recordTemplate(name: string): Record<string, unknown> {
  return {
    name,
    description: 'What this function does, in one sentence',
    latestVersion: '1.0.0',
    versions: {
      '1.0.0': {
        descriptor: {
          inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
          outputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
          maxRisk: 'read-only',
          idempotency: 'idempotent',
          allowedByDefault: false,
          maxDurationMs: 5000,
        },
        providers: [
          {
            id: 'provider-1',
            endpoint: 'https://provider-1.example/fn',
            cost: { unit: 'USDC', baseUnits: '1000' },
            avgResponseTimeMs: 100,
          },
        ],
      },
    },
    securityRequirements: { minSecurityLevel: 'controlled', requiredPermissions: [], trustedProviders: [] },
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') }
}

/** `versions["1.0.0"].providers[0].endpoint` -> the JSON path jsonc-parser finds a node by. */
function jsonPath(field: string): (string | number)[] {
  const path: (string | number)[] = []
  for (const m of field.matchAll(/([^.[\]"]+)|\["([^"]*)"\]|\[(\d+)\]/g))
    path.push(m[3] !== undefined ? Number(m[3]) : (m[2] ?? m[1])!)
  return path
}

/**
 * Checks a draft as a reader would check the record it becomes: the schema and cross-field rules,
 * with the envelope filled in as `publish` fills it, and every input and output schema compiled.
 */
export async function lintRecordFile(file: string): Promise<{ name: string; versions: string[] }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FileReadError(`Cannot read the record file ${file}`, {
      details: { file, reason: (err as Error).message },
      cause: err,
    })
  }
  const errors: ParseError[] = []
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true })
  if (errors.length > 0 || tree === undefined) {
    const first = errors[0]
    throw new RecordLintError(
      file,
      first === undefined ? undefined : lineColumn(text, first.offset),
      '(root)',
      `is not JSON (${first === undefined ? 'empty' : printParseErrorCode(first.error)})`,
    )
  }
  const draft = JSON.parse(text) as Record<string, unknown>
  const at = (field: string) => {
    const node = findNodeAtLocation(tree, jsonPath(field))
    return node === undefined ? undefined : lineColumn(text, node.offset)
  }
  if (draft === null || typeof draft !== 'object' || Array.isArray(draft))
    throw new RecordLintError(file, undefined, '(root)', 'must be a JSON object')
  let namespace = ''
  try {
    namespace = parseFunctionName(normalizeRecordName(String(draft.name))).namespace
  } catch (err) {
    throw new RecordLintError(file, at('name'), 'name', (err as Error).message.split('\n')[0]!)
  }
  const now = new Date()
  const record = {
    namespace,
    seq: 1,
    issuedAt: now.toISOString(),
    ttlSeconds: 300,
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    signatures: [],
    ...draft,
  }
  try {
    validateRecord(record)
  } catch (err) {
    const { path, rule } = (err as MeshError).details as { path?: string; rule?: string }
    if (path === undefined) throw err
    throw new RecordLintError(file, at(path), path, String(rule))
  }
  const ajv = new Ajv({ strict: false, logger: false, validateFormats: false })
  const versions = draft.versions as Record<string, { descriptor: Record<string, unknown> }>
  for (const [version, entry] of Object.entries(versions))
    for (const key of ['inputSchema', 'outputSchema']) {
      const schema = entry.descriptor[key]
      if (schema === undefined) continue
      try {
        ajv.compile(schema as object)
      } catch (err) {
        const field = `versions["${version}"].descriptor.${key}`
        throw new RecordLintError(
          file,
          at(field),
          field,
          `is not a valid JSON Schema: ${(err as Error).message}`,
        )
      }
    }
  return { name: String(draft.name), versions: Object.keys(versions) }
}

/** `fmesh record new | lint`: a draft to start from, and the checks a reader makes, before signing. */
export const recordCommand = defineCommand({
  meta: { name: 'record', description: 'Write and check record drafts before publishing them' },
  subCommands: {
    // Loaded only when it runs: the MCP SDK stays unloaded for `record new` and `record lint`.
    'from-mcp': () => import('../../mcp/cli/recordCommand.js').then((m) => m.fromMcpCommand),
    new: defineCommand({
      meta: {
        name: 'new',
        description: 'Print (or write with --out) a complete record draft for NAME to edit',
      },
      args: {
        ...commonArgs,
        name: { type: 'positional', description: 'e.g. acme.com/text/upper', required: true },
        out: { type: 'string', description: 'Write the draft to this file (never over an existing one)' },
      },
      async run({ args }) {
        let name: string
        try {
          name = normalizeRecordName(args.name)
        } catch (err) {
          throw new MeshError('E_NAME_INVALID', `${args.name} is not a record name`, {
            details: { name: args.name },
            hint: 'A record name is NAMESPACE/PATH without a version, e.g. acme.com/text/upper.',
            cause: err,
          })
        }
        const text = `${JSON.stringify(recordTemplate(name), null, 2)}\n`
        if (args.out === undefined) {
          process.stdout.write(text)
          return
        }
        await writeFile(args.out, text, { flag: 'wx' }).catch((err: unknown) => {
          throw new FileWriteError(`Cannot write the draft to ${args.out}`, {
            details: { path: args.out, reason: (err as Error).message },
            hint: 'Pick a path that does not exist yet.',
            cause: err,
          })
        })
        context(args).out.result({ name, file: args.out }, () =>
          process.stdout.write(`wrote ${args.out}: edit it, then \`fmesh record lint ${args.out}\`\n`),
        )
      },
    }),
    lint: defineCommand({
      meta: {
        name: 'lint',
        description: 'Check a record draft as a reader will check the record (with positions)',
      },
      args: {
        ...commonArgs,
        file: { type: 'positional', description: 'A record draft (JSON)', required: true },
      },
      async run({ args }) {
        const { out } = context(args)
        const result = await lintRecordFile(args.file)
        out.result({ ok: true, ...result }, () =>
          out.line(`ok: ${result.name}, versions ${result.versions.join(', ')}`),
        )
      },
    }),
  },
})
