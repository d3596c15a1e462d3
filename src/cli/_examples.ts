/**
 * Examples `--help` prints under each command's usage (citty renders none of its own). Keyed by the
 * command path; a test checks that every command has some and that each one parses.
 */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['fmesh init --namespace acme.com', 'fmesh resolve acme.com/text/upper', 'fmesh demo'],
  init: ['fmesh init', 'fmesh init --namespace acme.com', 'fmesh init --dir ./mesh --force'],
  record: ['fmesh record new acme.com/text/upper --out upper.json', 'fmesh record lint upper.json'],
  'record new': [
    'fmesh record new acme.com/text/upper',
    'fmesh record new acme.com/text/upper --out upper.json',
  ],
  'record lint': ['fmesh record lint upper.json', 'fmesh record lint upper.json --json'],
  'record from-mcp': [
    "fmesh record from-mcp 'node server.js' --namespace acme.com --out drafts",
    'fmesh record from-mcp http://127.0.0.1:3000/mcp --namespace acme.com --path tools',
  ],
  resolve: ['fmesh resolve acme.com/text/upper', 'fmesh resolve acme.com/text/upper@^1.2 --json'],
  select: [
    'fmesh select acme.com/text/upper --strategy lowest-cost',
    `fmesh select acme.com/text/upper --context '{"level":"full"}'`,
  ],
  call: [
    `fmesh call acme.com/text/upper --input '{"text":"hi"}'`,
    'fmesh call acme.com/text/upper@1.0.0 --input @input.json --timeout 5000',
    `fmesh call acme.com/pay/charge --input '{}' --idempotency-key order-42 --lease LEASE_ID`,
    'fmesh call acme.com/text/upper --offline    # not through the running node',
  ],
  lease: [
    "fmesh lease grant --capabilities 'acme.com/**' --budget USDC=1000000 --ttl 1h",
    'fmesh lease list',
  ],
  'lease grant': [
    "fmesh lease grant --capabilities 'acme.com/**' --budget USDC=1000000 --ttl 1h",
    "fmesh lease grant --capabilities 'acme.com/text/*,beta.org/**' --budget USDC=5000,ETH=1 --id team-a",
  ],
  'lease list': ['fmesh lease list', 'fmesh lease list --all --json'],
  'lease show': ['fmesh lease show team-a'],
  'lease revoke': ['fmesh lease revoke team-a'],
  publish: [
    'fmesh publish upper.json --key acme.com.jwk',
    'fmesh publish upper.json --key acme.com.jwk --to git,ipfs',
  ],
  yank: ['fmesh yank acme.com/text/upper@1.0.0 --key acme.com.jwk --message "data loss bug, use 1.0.1"'],
  deprecate: ['fmesh deprecate acme.com/text/upper@1.0.0 --key acme.com.jwk --message "use 2.x"'],
  lineage: ['fmesh lineage verify', 'fmesh lineage show INVOCATION_ID'],
  'lineage show': ['fmesh lineage show INVOCATION_ID', 'fmesh lineage show INVOCATION_ID --json'],
  'lineage proof': ['fmesh lineage proof ENTRY_ID --json'],
  'lineage verify': ['fmesh lineage verify', 'fmesh lineage verify --key did:key:z6Mk...'],
  'lineage key': ['fmesh lineage key'],
  calls: [
    'fmesh calls',
    'fmesh calls --failed --limit 5',
    'fmesh calls --function acme.com/text/upper --json',
  ],
  dispatch: [
    `fmesh dispatch order.created --event '{"id":42}'`,
    'fmesh dispatch order.created --event @event.json --gateway http://127.0.0.1:7420 --token TOKEN',
  ],
  manifest: ['fmesh manifest acme.com/text/upper --knative --image ghcr.io/acme/upper:1.0.0'],
  usage: ['fmesh usage', 'fmesh usage --by provider --since 2026-01-01T00:00:00Z'],
  ls: ["fmesh ls 'acme.com/**'", "fmesh ls 'acme.com/text/*' --json"],
  keys: ['fmesh keys new --out acme.com.jwk', 'fmesh keys list'],
  'keys new': ['fmesh keys new', 'fmesh keys new --out acme.com.jwk'],
  'keys list': ['fmesh keys list'],
  'keys export-public': ['fmesh keys export-public acme.com.jwk'],
  namespace: ['fmesh namespace claim acme.com', 'fmesh namespace show acme.com'],
  'namespace claim': [
    'fmesh namespace claim acme.com',
    'fmesh namespace claim acme.com --signer-key eth.key',
  ],
  'namespace keys': ['fmesh namespace keys list acme.com'],
  'namespace keys add': ['fmesh namespace keys add acme.com did:key:z6Mk...'],
  'namespace keys remove': ['fmesh namespace keys remove acme.com did:key:z6Mk...'],
  'namespace keys list': ['fmesh namespace keys list acme.com'],
  'namespace transfer': ['fmesh namespace transfer acme.com 0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
  'namespace accept': ['fmesh namespace accept acme.com --signer-key new-owner.key'],
  'namespace cancel': ['fmesh namespace cancel acme.com'],
  'namespace show': ['fmesh namespace show acme.com --json'],
  'namespace yank': ['fmesh namespace yank acme.com/text/upper@1.0.0'],
  'namespace deprecate': ['fmesh namespace deprecate acme.com/text/upper@1.0.0'],
  'namespace unmark': ['fmesh namespace unmark acme.com/text/upper@1.0.0'],
  demo: ['fmesh demo', 'fmesh demo --dir ./demo-data'],
  completion: [
    'eval "$(fmesh completion bash)"',
    'autoload -U bashcompinit && bashcompinit && eval "$(fmesh completion bash)"    # zsh',
  ],
  gateway: ['fmesh gateway token --principal app', 'fmesh gateway start --port 7420 --tokens tokens.json'],
  'gateway start': ['fmesh gateway start --tokens tokens.json', 'fmesh gateway start --port 0'],
  'gateway token': ['fmesh gateway token --principal billing-service'],
  mcp: ['fmesh mcp', 'fmesh mcp --http --port 0'],
  node: ['fmesh node start', 'fmesh node status', 'fmesh node peers'],
  'node start': [
    'fmesh node start',
    'fmesh node start --listen /ip4/127.0.0.1/tcp/4001 --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...',
  ],
  'node status': ['fmesh node status', 'fmesh node status --json'],
  'node peers': ['fmesh node peers', 'fmesh node peers --json'],
}

/** The EXAMPLES block for a command path, or '' when it has none. */
export function examplesOf(path: readonly string[]): string {
  const lines = EXAMPLES[path.join(' ')]
  if (lines === undefined || lines.length === 0) return ''
  return `EXAMPLES\n\n${lines.map((l) => `  ${l}`).join('\n')}\n\n`
}
