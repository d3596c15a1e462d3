import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { toolServer } from './mcpToolServer.mjs'

// The test tool server over stdio: `node test/_helpers/mcpStdioServer.mjs [--bad-schema]` (plain
// JavaScript, so it starts without a TypeScript loader); MCP_TEST_LOG names a file it appends calls
// and cancellations to.
const log = process.env.MCP_TEST_LOG
const server = toolServer({
  badSchema: process.argv.includes('--bad-schema'),
  ...(log === undefined ? {} : { log }),
  write: (line) => process.stdout.write(`${line}\n`),
})
await server.connect(new StdioServerTransport())
