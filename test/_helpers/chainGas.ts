import { type Contract, sha256, toUtf8Bytes } from 'ethers'
import { type Chain, nsHash, send } from './chain.js'

/** Gas used by one registry operation (deterministic for a given compiler, settings and anvil). */
export interface GasRow {
  operation: string
  gas: bigint
}

/**
 * Runs each registry operation once on a fresh deploy and reports the gas its receipt used, beside a
 * plain ETH transfer (21000) as the baseline.
 */
export async function measureRegistryGas(chain: Chain): Promise<GasRow[]> {
  const [owner, other] = chain.wallets as [NonNullable<Chain['wallets'][0]>, NonNullable<Chain['wallets'][1]>]
  const rows: GasRow[] = []
  const row = (operation: string, gas: bigint) => rows.push({ operation, gas })
  const transfer = await (await owner.sendTransaction({ to: other.address, value: 1n })).wait()
  row('baseline: ETH transfer', transfer!.gasUsed)
  const registry: Contract = await chain.deploy()
  const ns = nsHash('acme.com')
  const name = 'acme.com/image/sharpen'
  const gas = async (op: string, method: string, ...args: unknown[]) =>
    row(op, (await send(registry, method, ...args)).gasUsed)
  await gas('claim', 'claim', 'acme.com')
  // Fixed keys: calldata gas depends on the bytes (a zero byte costs less).
  const [k1, k2] = [sha256(toUtf8Bytes('key-1')), sha256(toUtf8Bytes('key-2'))]
  await gas('addPublisher (first key)', 'addPublisher', ns, k1)
  await gas('addPublisher (second key)', 'addPublisher', ns, k2)
  await gas('removePublisher', 'removePublisher', ns, k1)
  const started = (await send(registry, 'transferOwnership', ns, other.address)).gasUsed
  const accepted = (await send(registry.connect(other) as Contract, 'acceptOwnership', ns)).gasUsed
  row('transferOwnership', started)
  row('acceptOwnership (clears 1 key)', accepted)
  row('transfer + accept', started + accepted)
  const mine = registry.connect(other) as Contract
  const cid = toUtf8Bytes('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  const d = (s: string) => sha256(toUtf8Bytes(s))
  row(
    'publish, CID pointer (first)',
    (await send(mine, 'publish', name, 1, d('r1'), d('v1'), 1, cid)).gasUsed,
  )
  row(
    'publish, CID pointer (update)',
    (await send(mine, 'publish', name, 2, d('r2'), d('v2'), 1, cid)).gasUsed,
  )
  const inline = new Uint8Array(1024).fill(0x7b)
  const inline2 = new Uint8Array(1024).fill(0x7d)
  const other2 = 'acme.com/image/blur'
  row(
    'publish, 1 KiB inline (first)',
    (await send(mine, 'publish', other2, 1, sha256(inline), d('v'), 2, inline)).gasUsed,
  )
  row(
    'publish, 1 KiB inline (update)',
    (await send(mine, 'publish', other2, 2, sha256(inline2), d('v'), 2, inline2)).gasUsed,
  )
  row('markVersion (yank)', (await send(mine, 'markVersion', name, '1.2.0', 2)).gasUsed)
  row('markVersion (clear)', (await send(mine, 'markVersion', name, '1.2.0', 0)).gasUsed)
  row('lookup (eth_call, estimated)', await mine.getFunction('lookup').estimateGas(name))
  return rows
}

/** The rows as a plain table, each with its ratio to the baseline transfer. */
export function formatGasTable(rows: readonly GasRow[]): string {
  const base = rows[0]!.gas
  const width = Math.max(...rows.map((r) => r.operation.length))
  return rows
    .map(
      (r) =>
        `${r.operation.padEnd(width)}  ${String(r.gas).padStart(9)} gas  ${(Number(r.gas) / Number(base)).toFixed(2)}x`,
    )
    .join('\n')
}
