import { mkdir, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { defineCommand } from 'citty'
import { commonArgs, context } from '../../src/cli/_context.js'
import { MeshError } from '../../src/errors/base.js'
import { McpServerSpecError } from '../errors.js'
import { type McpDraftSource, recordDraftsFromMcp } from '../recordDrafts.js'
import { shellWords } from './_shellWords.js'

/** SERVER as the user typed it: an http(s) URL, or a command line to start a stdio server. */
export function draftSource(spec: string, name: string | undefined): McpDraftSource {
  if (/^https?:\/\//.test(spec)) return { url: spec }
  const words = shellWords(spec)
  if (words === undefined) throw new McpServerSpecError(spec, 'a quote is not closed')
  if (words.length === 0) throw new McpServerSpecError(spec, 'the command line is empty')
  const [command, ...args] = words as [string, ...string[]]
  // The endpoint names the server by the name the publisher's users give it in their local config.
  const script = [...args].reverse().find((a) => !a.startsWith('-')) ?? command
  const derived = basename(script)
    .replace(/\.[cm]?[jt]s$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
  return { stdio: { command, args }, server: name ?? (derived.slice(0, 64) || 'server') }
}

/** `fmesh record from-mcp SERVER` (a subcommand of src/cli/recordCommand.ts's `record`). */
export const fromMcpCommand = defineCommand({
  meta: {
    name: 'from-mcp',
    description:
      "Build record drafts (JSON, unsigned) from an MCP server's tools/list: schemas, risk and idempotency from annotations, a provider naming the server and tool",
  },
  args: {
    ...commonArgs,
    server: {
      type: 'positional',
      description: "A command line ('node server.js') or a streamable HTTP URL (http://127.0.0.1:3000/mcp)",
      required: true,
    },
    namespace: { type: 'string', description: 'The namespace you publish under (acme.com)', required: true },
    path: {
      type: 'string',
      description: 'Path segments before each tool name (images -> acme.com/images/TOOL)',
    },
    version: { type: 'string', description: 'The version of every draft', default: '1.0.0' },
    name: {
      type: 'string',
      description: 'The server name endpoints use (mcp+stdio:NAME/TOOL); default: from the command',
    },
    tool: { type: 'string', description: 'Only these tools, comma-separated' },
    'provider-id': { type: 'string', description: 'The provider id (default mcp-NAME)' },
    cost: { type: 'string', description: 'Cost per call in base units, with --currency' },
    currency: { type: 'string', description: 'The cost unit (USDC)' },
    out: {
      type: 'string',
      description: 'Write one DRAFT.json per tool into this directory instead of printing',
    },
  },
  async run({ args }) {
    const { out } = context(args)
    if ((args.cost === undefined) !== (args.currency === undefined))
      throw new MeshError('E_USAGE', '--cost and --currency go together', {
        hint: 'e.g. --cost 10000 --currency USDC',
      })
    const source = draftSource(args.server, args.name)
    const drafts = await recordDraftsFromMcp(source, {
      namespace: args.namespace,
      version: args.version,
      ...(args.path === undefined ? {} : { path: args.path }),
      ...(args.tool === undefined
        ? {}
        : {
            tools: args.tool
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          }),
      ...(args['provider-id'] === undefined ? {} : { providerId: args['provider-id'] }),
      ...(args.cost === undefined || args.currency === undefined
        ? {}
        : { cost: { unit: args.currency, baseUnits: args.cost } }),
    })
    if (args.out !== undefined) {
      await mkdir(args.out, { recursive: true })
      const files: string[] = []
      for (const { draft } of drafts) {
        const file = join(args.out, `${draft.name.replaceAll('/', '_')}.json`)
        await writeFile(file, `${JSON.stringify(draft, null, 2)}\n`)
        files.push(file)
      }
      out.result({ files }, () => {
        for (const f of files) out.line(`wrote ${f}`)
        out.line('Review each draft (risk, idempotency, cost), then `fmesh publish FILE --key KEY`.')
      })
      return
    }
    process.stdout.write(
      `${JSON.stringify(args.json ? { drafts: drafts.map((d) => d.draft) } : drafts.map((d) => d.draft), null, 2)}\n`,
    )
    if (!args.json)
      process.stderr.write(
        `${drafts.length} draft${drafts.length === 1 ? '' : 's'}, unsigned: review risk, idempotency and cost, then \`fmesh publish FILE --key KEY\`.\n`,
      )
  },
})
