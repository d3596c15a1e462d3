import { readFile } from 'node:fs/promises'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { defineCommand } from 'citty'
import { commonArgs, context } from '../../src/cli/_context.js'
import { MeshError } from '../../src/errors/base.js'
import { findConfig, loadConfig } from '../../src/preset/config.js'
import { createPresetMesh } from '../../src/preset/createPresetMesh.js'
import type { SecurityContextInit } from '../../src/security/SecurityContext.js'
import { mcpTransport } from '../mcpTransport.js'
import { meshMcpServer } from '../meshMcpServer.js'

/** The context when `--context` is not given: only functions whose records allow it by default, read-only. */
export const DEFAULT_MCP_CONTEXT: SecurityContextInit = { level: 'controlled', maxRisk: 'read-only' }

async function jsonArg(flag: string, value: string): Promise<unknown> {
  let text = value
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8')
    } catch (err) {
      throw new MeshError('E_FILE_READ', `Cannot read the ${flag} file ${value.slice(1)}`, {
        details: { file: value.slice(1), reason: (err as Error).message },
      })
    }
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new MeshError('E_USAGE', `${flag} is not JSON (or @FILE holding JSON)`, {
      details: { value: value.slice(0, 200), reason: (err as Error).message },
      hint: `e.g. ${flag} '{"level":"controlled","allowedFunctionPatterns":["acme.com/**"]}'`,
    })
  }
}

/** `fmesh mcp`: the mesh as an MCP server, on stdio (default) or streamable HTTP on 127.0.0.1. */
export const mcpCommand = defineCommand({
  meta: {
    name: 'mcp',
    description:
      'Serve the mesh to MCP clients (agents): resolve, select, call, and one tool per function the context allows',
  },
  args: {
    ...commonArgs,
    principal: { type: 'string', description: 'Who every call runs as', default: 'mcp' },
    context: {
      type: 'string',
      description:
        'The security context as JSON or @FILE (default: controlled, read-only, allowedByDefault functions)',
    },
    lease: { type: 'string', description: 'A lease id that pays for every call' },
    http: { type: 'boolean', description: 'Streamable HTTP on 127.0.0.1 instead of stdio', default: false },
    port: { type: 'string', description: 'The HTTP port (0: any free port)', default: '7331' },
    servers: {
      type: 'string',
      description:
        'MCP servers mcp+stdio: endpoints may name, as JSON or @FILE: { "NAME": { "command", "args" } }',
    },
    pattern: { type: 'string', description: 'Which registry names become tools', default: '**' },
  },
  async run({ args }) {
    const { configPath } = context(args)
    const port = Number(args.port)
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
      throw new MeshError('E_USAGE', `--port must be 0-65535, not ${args.port}`)
    const securityContext = (
      args.context === undefined ? DEFAULT_MCP_CONTEXT : await jsonArg('--context', args.context)
    ) as SecurityContextInit
    const serversArg = args.servers === undefined ? {} : await jsonArg('--servers', args.servers)
    const servers = (serversArg as { servers?: unknown })?.servers ?? serversArg
    const transport = mcpTransport({ servers: servers as never })
    const config = await loadConfig(await findConfig(configPath))
    const { mesh } = await createPresetMesh(config, { transports: [transport] })
    let served: ReturnType<typeof meshMcpServer>
    try {
      served = meshMcpServer(mesh, {
        principal: args.principal,
        context: securityContext,
        pattern: args.pattern,
        ...(args.lease === undefined ? {} : { lease: args.lease }),
      })
    } catch (err) {
      await mesh.close()
      throw err
    }
    let stopping: Promise<void> | undefined
    let finished!: () => void
    const done = new Promise<void>((resolve) => {
      finished = resolve
    })
    const stop = () => {
      stopping ??= served
        .close()
        .finally(() => mesh.close())
        .catch((err: unknown) => {
          process.stderr.write(`fmesh mcp: closing failed: ${(err as Error)?.message}\n`)
        })
        .finally(finished)
      return stopping
    }
    process.once('SIGINT', () => void stop())
    process.once('SIGTERM', () => void stop())
    if (args.http) {
      const handle = await served.serveHttp({ port })
      const line = { url: handle.url, principal: args.principal }
      process.stdout.write(
        args.json
          ? `${JSON.stringify(line)}\n`
          : `fmesh mcp: streamable HTTP at ${handle.url} as ${args.principal}\n`,
      )
    } else {
      // stdout is the protocol channel: nothing else may be written to it.
      const transportIn = new StdioServerTransport()
      await served.connect(transportIn)
      process.stdin.once('end', () => void stop())
      process.stderr.write(`fmesh mcp: serving on stdio as ${args.principal}\n`)
    }
    await done
  },
})
