import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { serveStreamableHttp } from '../../mcp/_serveHttp.js'

const TEXT = { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } as const

/**
 * A small real MCP server for the demo (the SDK's `Server`), served over streamable HTTP on
 * 127.0.0.1 in this process: `reverse` answers after 10 ms with the text reversed, `words` counts the
 * words of a text. The mesh reaches it through its MCP transport, as `mcp+http://...#TOOL`.
 */
export async function startDemoMcpServer(): Promise<{
  endpoint(tool: 'reverse' | 'words'): string
  close(): Promise<void>
}> {
  const make = () => {
    const server = new Server({ name: 'fmesh-demo-tools', version: '1.0.0' }, { capabilities: { tools: {} } })
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: [
        { name: 'reverse', description: 'Reverse a text', inputSchema: TEXT, outputSchema: TEXT },
        {
          name: 'words',
          description: 'Count the words of a text',
          inputSchema: TEXT,
          outputSchema: { type: 'object', required: ['words'], properties: { words: { type: 'number' } } },
        },
      ],
    }))
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const text = String((request.params.arguments as { text?: unknown } | undefined)?.text ?? '')
      if (request.params.name === 'reverse') {
        await new Promise((resolve) => setTimeout(resolve, 10))
        return { content: [], structuredContent: { text: [...text].reverse().join('') } }
      }
      if (request.params.name === 'words')
        return { content: [], structuredContent: { words: text.split(/\s+/).filter(Boolean).length } }
      return { isError: true, content: [{ type: 'text', text: `unknown tool ${request.params.name}` }] }
    })
    return server
  }
  const handle = await serveStreamableHttp(make)
  return {
    endpoint: (tool) => `mcp+${handle.url}#${tool}`,
    close: () => handle.close(),
  }
}
