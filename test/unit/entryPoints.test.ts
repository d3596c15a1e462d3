import { describe, expect, it } from 'vitest'

const runtime = (mod: object) => Object.keys(mod).sort()

describe('entry points', () => {
  it('the root exports the contract of DESIGN section 6 and nothing internal', async () => {
    expect(runtime(await import('function-mesh'))).toEqual(
      [
        'createMesh',
        'defineFunction',
        'formatFunctionName',
        'generateSigner',
        'governedFunction',
        'importSigner',
        'isMeshError',
        'memoryRegistry',
        'MeshError',
        'parseFunctionName',
        'pinnedTrust',
        'securityContext',
      ].sort(),
    )
  })

  it.each([
    ['errors', ['MeshError', 'MeshClosedError', 'SignatureInvalidError', 'ConfigError']],
    ['record', ['canonicalBytes', 'recordId', 'signRecord', 'validateRecord', 'FunctionRecordSchema']],
    ['trust', ['RecordVerifier', 'pinnedTrust', 'fileSeqLedger', 'TrustChain']],
    ['select', ['Selector', 'HealthTracker', 'lowestCost', 'loadBalance', 'RateTable', 'SecurityContext']],
    ['ledger', ['openLedger', 'verifyCheckpoint', 'verifyInclusion']],
    ['transport', ['httpTransport', 'localTransport']],
    [
      'registry',
      ['watchQueue', 'throwIfAborted', 'raceSignal', 'logger', 'registryComponents', 'memoryRegistry'],
    ],
    ['testing', ['runRegistryConformance']],
    ['gateway', ['httpGateway', 'hashToken', 'generateToken', 'statusOf', 'STATUS_BY_CODE']],
    ['mcp', ['mcpTransport', 'parseMcpEndpoint', 'McpToolError', 'McpProtocolError']],
    [
      'node',
      [
        'peerNode',
        'DEFAULT_PEER_LIMITS',
        'LOOKUP_PROTOCOL',
        'SYNC_PROTOCOL',
        'RECORDS_TOPIC',
        'PeerRateLimitedError',
      ],
    ],
  ])('function-mesh/%s exports what it documents', async (sub, names) => {
    const mod = (await import(`function-mesh/${sub}`)) as Record<string, unknown>
    for (const name of names) expect(mod[name], `${sub}: ${name}`).toBeDefined()
  })

  it('no entry point exports internals', async () => {
    const internal = [
      'createInvoker',
      'BACKOFF_BASE_MS',
      'defaultDataDir',
      'choiceOf',
      'federatedLookup',
      'MeshRuntime',
      'PeerGuard',
      'LookupService',
      'SyncService',
      'loadPeerKey',
    ]
    for (const sub of [
      '',
      '/errors',
      '/record',
      '/trust',
      '/select',
      '/ledger',
      '/transport',
      '/registry',
      '/gateway',
      '/mcp',
      '/node',
    ]) {
      const mod = (await import(`function-mesh${sub}`)) as Record<string, unknown>
      for (const name of internal) expect(mod[name], `function-mesh${sub}: ${name}`).toBeUndefined()
    }
  })
})
