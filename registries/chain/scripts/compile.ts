import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import solc from 'solc'

// Compiles the registry contract with solc-js and writes the committed artifact, so users of the
// package need no compiler. `npm run compile:contracts`; a test recompiles and compares.

export const CONTRACT_NAME = 'FunctionMeshRegistry'
export const SOURCE_PATH = fileURLToPath(new URL(`../contracts/${CONTRACT_NAME}.sol`, import.meta.url))
export const ARTIFACT_PATH = fileURLToPath(new URL(`../artifacts/${CONTRACT_NAME}.json`, import.meta.url))

/** Set explicitly: solc's default (osaka) is newer than many chains; anvil's default fork runs cancun code. */
export const COMPILER_SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  metadata: { bytecodeHash: 'none' },
} as const

export interface RegistryArtifact {
  contractName: string
  sourceName: string
  sourceSha256: string
  compiler: { name: 'solc'; version: string; settings: typeof COMPILER_SETTINGS }
  abi: unknown[]
  bytecode: string
  deployedBytecode: string
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<
    string,
    Record<
      string,
      { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >
}

/** Compiles the contract source and returns the artifact it would write. */
export async function compileRegistry(): Promise<RegistryArtifact> {
  const source = await readFile(SOURCE_PATH, 'utf8')
  const sourceName = `registries/chain/contracts/${CONTRACT_NAME}.sol`
  const input = {
    language: 'Solidity',
    sources: { [sourceName]: { content: source } },
    settings: {
      ...COMPILER_SETTINGS,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const problems = (output.errors ?? []).filter((e) => e.severity === 'error' || e.severity === 'warning')
  if (problems.length > 0) throw new Error(problems.map((e) => e.formattedMessage).join('\n'))
  const contract = output.contracts?.[sourceName]?.[CONTRACT_NAME]
  if (contract === undefined) throw new Error(`solc produced no ${CONTRACT_NAME}`)
  return {
    contractName: CONTRACT_NAME,
    sourceName,
    sourceSha256: createHash('sha256').update(source).digest('hex'),
    compiler: { name: 'solc', version: solc.version() as string, settings: COMPILER_SETTINGS },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const artifact = await compileRegistry()
  await writeFile(ARTIFACT_PATH, `${JSON.stringify(artifact, null, 2)}\n`)
  const size = (artifact.deployedBytecode.length - 2) / 2
  process.stdout.write(`wrote ${ARTIFACT_PATH} (solc ${artifact.compiler.version}, ${size} bytes deployed)\n`)
}
