import { governedFunction } from '../../src/invoke/governedFunction.js'

/**
 * The governed function the invocation tests and benches call: `acme.com/text/upper@1.0.0`, an
 * idempotent, read-only local handler that upper-cases `text`, costing `baseUnits` USDC a call.
 */
export function upperFunction(baseUnits = '10') {
  return governedFunction(
    {
      name: 'acme.com/text/upper',
      version: '1.0.0',
      idempotency: 'idempotent',
      maxRisk: 'read-only',
      inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
      outputSchema: { type: 'object', required: ['text'] },
      cost: { unit: 'USDC', baseUnits },
    },
    (input: { text: string }) => ({ text: input.text.toUpperCase() }),
  )
}
