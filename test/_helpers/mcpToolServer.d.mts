import type { Server } from '@modelcontextprotocol/sdk/server/index.js'

/** See mcpToolServer.mjs: the MCP tool server the MCP tests and the bench run. */
export declare function toolServer(options?: {
  badSchema?: boolean
  log?: string
  write?: (line: string) => void
}): Server
