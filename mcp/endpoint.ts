/** Where an `mcp+` provider endpoint points: a configured stdio server or a streamable HTTP URL, and a tool. */
export type McpEndpoint =
  | { readonly kind: 'stdio'; readonly server: string; readonly tool: string; readonly key: string }
  | { readonly kind: 'http'; readonly url: string; readonly tool: string; readonly key: string }

/** A stdio server's name in the local config: what `mcp+stdio:NAME/TOOL` may name. */
export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

const STDIO = 'mcp+stdio:'

/**
 * Parses an MCP provider endpoint. Two forms:
 * - `mcp+stdio:SERVER/TOOL`: SERVER names an entry of the local `servers` config (its command never
 *   comes from a record); TOOL is everything after the first `/`, percent-decoded.
 * - `mcp+http://HOST:PORT/PATH#TOOL` (or `mcp+https://`): the streamable HTTP endpoint is the URL
 *   without `mcp+` and without the fragment; TOOL is the fragment, percent-decoded.
 *
 * Returns the rule broken as a string when the endpoint is malformed.
 *
 * @example
 * ```ts
 * parseMcpEndpoint('mcp+stdio:images/sharpen') // { kind: 'stdio', server: 'images', tool: 'sharpen', ... }
 * parseMcpEndpoint('mcp+http://127.0.0.1:3000/mcp#sharpen') // { kind: 'http', url: 'http://127.0.0.1:3000/mcp', ... }
 * ```
 */
export function parseMcpEndpoint(endpoint: string): McpEndpoint | string {
  if (endpoint.startsWith(STDIO)) {
    const rest = endpoint.slice(STDIO.length)
    const slash = rest.indexOf('/')
    if (slash <= 0) return 'mcp+stdio: needs SERVER/TOOL'
    const server = rest.slice(0, slash)
    if (!SERVER_NAME.test(server))
      return `the server name "${server.slice(0, 64)}" is not letters, digits, ".", "_", "-"`
    const tool = decode(rest.slice(slash + 1))
    if (tool === undefined || tool === '') return 'the tool after "/" is empty or badly percent-encoded'
    return { kind: 'stdio', server, tool, key: `stdio:${server}` }
  }
  if (endpoint.startsWith('mcp+http://') || endpoint.startsWith('mcp+https://')) {
    const hash = endpoint.indexOf('#')
    if (hash === -1) return 'an mcp+http(s) endpoint names its tool after "#": mcp+http://HOST:PORT/PATH#TOOL'
    const tool = decode(endpoint.slice(hash + 1))
    if (tool === undefined || tool === '') return 'the tool after "#" is empty or badly percent-encoded'
    const raw = endpoint.slice('mcp+'.length, hash)
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return `"${raw.slice(0, 200)}" is not a URL`
    }
    if (url.username !== '' || url.password !== '') return 'credentials in the URL are not allowed'
    const href = url.href
    return { kind: 'http', url: href, tool, key: `http:${href}` }
  }
  return 'not an mcp+stdio: or mcp+http(s):// endpoint'
}

/**
 * The endpoint naming `tool` on a stdio server or at an HTTP URL: the inverse of {@link parseMcpEndpoint}.
 *
 * @example
 * ```ts
 * formatMcpEndpoint({ server: 'images' }, 'sharpen') // 'mcp+stdio:images/sharpen'
 * formatMcpEndpoint({ url: 'http://127.0.0.1:3000/mcp' }, 'sharpen') // 'mcp+http://127.0.0.1:3000/mcp#sharpen'
 * ```
 */
export function formatMcpEndpoint(target: { server: string } | { url: string }, tool: string): string {
  const t = encodeURIComponent(tool).replace(/%2F/gi, '/')
  if ('server' in target) return `${STDIO}${target.server}/${t}`
  return `mcp+${target.url.split('#')[0]}#${t}`
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}
