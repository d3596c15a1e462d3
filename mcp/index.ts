import '../src/_polyfill.js'

export type { StreamableHttpHandle } from './_serveHttp.js'
// `function-mesh/mcp`: MCP tools as governed providers, record drafts from tools/list, and the mesh
// served to agents as an MCP server.
export { checkServers, type McpServers, type McpStdioServer } from './config.js'
export { formatMcpEndpoint, type McpEndpoint, parseMcpEndpoint } from './endpoint.js'
export * from './errors.js'
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type McpTransport,
  type McpTransportInit,
  mcpTransport,
  SDK_TIMEOUT_GRACE_MS,
} from './mcpTransport.js'
export { type MeshMcpServer, type MeshMcpServerInit, meshMcpServer } from './meshMcpServer.js'
export {
  classify,
  type McpDraftSource,
  type McpRecordDraft,
  type RecordDraftOptions,
  recordDraftsFromMcp,
} from './recordDrafts.js'
