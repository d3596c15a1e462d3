import { appendFileSync } from 'node:fs'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'

/**
 * A real MCP server (the SDK's low-level `Server`) with one tool per behaviour the MCP tests need:
 * `sharpen` (structured output), `upper` (JSON text output), `count`, `swapped` (lists sharpen's
 * outputSchema, answers count's result), `fail` (isError), `crash` (exits mid-call), `hang` (never
 * answers; logs the cancellation it receives), `garbage` (writes a line that is not JSON-RPC),
 * `stray` (answers a request id nobody sent), `bad-result` (answers its id with a result that is
 * not a CallToolResult), `pid`, `billed` (reports a quantity of 3). With `badSchema`, it also lists
 * `broken`, whose inputSchema is not valid JSON Schema. `write` puts a raw line on the wire (stdio).
 */
/**
 * @param {{ badSchema?: boolean, log?: string, write?: (line: string) => void }} [options]
 * @returns {Server}
 */
export function toolServer(options = {}) {
  const server = new Server({ name: 'test-tools', version: '1.0.0' }, { capabilities: { tools: {} } })
  /** @param {string} line */
  const log = (line) => {
    if (options.log !== undefined) appendFileSync(options.log, `${line}\n`)
  }
  const image = { type: 'object', required: ['image'], properties: { image: { type: 'string' } } }
  const tools = [
    {
      name: 'sharpen',
      description: 'Sharpen an image',
      inputSchema: image,
      outputSchema: image,
      annotations: { readOnlyHint: true },
    },
    {
      name: 'upper',
      description: 'Upper-case a text',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
    },
    {
      name: 'count',
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object', required: ['count'], properties: { count: { type: 'number' } } },
    },
    { name: 'swapped', inputSchema: image, outputSchema: image },
    { name: 'fail', inputSchema: image, annotations: { destructiveHint: true } },
    { name: 'crash', inputSchema: image },
    { name: 'hang', inputSchema: image },
    { name: 'garbage', inputSchema: image },
    { name: 'stray', inputSchema: image },
    { name: 'bad-result', inputSchema: image },
    { name: 'pid', inputSchema: { type: 'object' } },
    { name: 'billed', inputSchema: image, outputSchema: image },
    ...(options.badSchema
      ? [{ name: 'broken', inputSchema: { type: 'object', properties: { x: { type: 'nope' } } } }]
      : []),
  ]
  server.setRequestHandler(ListToolsRequestSchema, () => /** @type {never} */ ({ tools }))
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = /** @type {{ image?: string, text?: string }} */ (request.params.arguments ?? {})
    const meta = /** @type {Record<string, unknown> | undefined} */ (request.params._meta)
    log(`call ${request.params.name} ${String(meta?.['function-mesh/invocation'] ?? '-')}`)
    switch (request.params.name) {
      case 'sharpen':
        return { content: [], structuredContent: { image: `${args.image}!` } }
      case 'upper':
        return {
          content: [{ type: 'text', text: JSON.stringify({ text: String(args.text).toUpperCase() }) }],
        }
      case 'count':
        return { content: [], structuredContent: { count: 3 } }
      case 'swapped':
        return { content: [], structuredContent: { count: 3 } }
      case 'fail':
        return { isError: true, content: [{ type: 'text', text: 'the image is corrupt' }] }
      case 'crash':
        process.stderr.write('crashing on purpose\n')
        process.exit(3)
        break
      case 'hang':
        return new Promise(() => {
          extra.signal.addEventListener('abort', () => log(`cancelled hang ${String(extra.signal.reason)}`))
        })
      case 'garbage':
        options.write?.('this is not json-rpc')
        return new Promise(() => {})
      case 'stray':
        options.write?.(JSON.stringify({ jsonrpc: '2.0', id: 'nobody-asked', result: { content: [] } }))
        return new Promise(() => {})
      case 'bad-result':
        options.write?.(JSON.stringify({ jsonrpc: '2.0', id: extra.requestId, result: { content: 'nope' } }))
        return new Promise(() => {})
      case 'pid':
        return { content: [], structuredContent: { pid: process.pid } }
      case 'billed':
        return {
          content: [],
          structuredContent: { image: `${args.image}!` },
          _meta: { 'function-mesh/quantity': 3 },
        }
    }
    return { isError: true, content: [{ type: 'text', text: `unknown tool ${request.params.name}` }] }
  })
  return server
}
