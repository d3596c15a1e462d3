import { z } from 'zod'
import { SERVER_NAME } from './endpoint.js'
import { McpConfigError } from './errors.js'

/** How to start one stdio MCP server: from the local config only, never from a record. */
export interface McpStdioServer {
  /** The executable (`node`, `npx`, `/usr/local/bin/image-server`). */
  readonly command: string
  readonly args?: readonly string[]
  /** Added to the small safe environment the SDK passes (HOME, PATH, ...). */
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

/** The servers `mcp+stdio:NAME/TOOL` endpoints may name. */
export type McpServers = Readonly<Record<string, McpStdioServer>>

const ServerSchema = z.strictObject({
  command: z.string().min(1, 'must not be empty').max(4096),
  args: z.array(z.string().max(32_768)).max(256).optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string())
    .optional(),
  cwd: z.string().min(1).optional(),
})

/**
 * Checks a `servers` config: every error is an `McpConfigError` naming the server and field
 * (`servers.images.args[0]`).
 *
 * @example
 * ```ts
 * const servers = checkServers(JSON.parse(await readFile('mcp-servers.json', 'utf8')))
 * ```
 */
export function checkServers(value: unknown): McpServers {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new McpConfigError('servers', 'must be an object of NAME: { command, args }', value)
  const out: Record<string, McpStdioServer> = {}
  for (const [name, server] of Object.entries(value)) {
    if (!SERVER_NAME.test(name))
      throw new McpConfigError(
        `servers.${name}`,
        'a server name is 1-64 letters, digits, ".", "_", "-"',
        name,
      )
    const parsed = ServerSchema.safeParse(server)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
      throw new McpConfigError(`servers.${name}${at}`, issue.message)
    }
    out[name] = parsed.data as McpStdioServer
  }
  return Object.freeze(out)
}
