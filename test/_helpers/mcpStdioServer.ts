import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { toolServer } from './mcpToolServer.js'

// The test tool server over stdio: `node --import tsx test/_helpers/mcpStdioServer.ts [--bad-schema]`;
// MCP_TEST_LOG names a file it appends calls and cancellations to.
const log = process.env.MCP_TEST_LOG
const server = toolServer({
  badSchema: process.argv.includes('--bad-schema'),
  ...(log === undefined ? {} : { log }),
  write: (line) => process.stdout.write(`${line}\n`),
})
await server.connect(new StdioServerTransport())
