import { describe, expect, it } from 'vitest'
import {
  ChainContractError,
  ChainCursorError,
  ChainDigestMismatchError,
  ChainIdMismatchError,
  ChainNoSignerError,
  ChainNotConfiguredError,
  ChainPointerUnavailableError,
  ChainRecordTooLargeError,
  ChainRevertError,
  NotNamespaceOwnerError,
} from '../../registries/chain/errors.js'

const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

// The chain registry's errors say what to check; their messages are pinned here.
describe('chain registry errors', () => {
  it('E_CHAIN_ID_MISMATCH names the URL and both chain ids', () => {
    expect(new ChainIdMismatchError('http://127.0.0.1:8545', 1, 31337).message).toMatchInlineSnapshot(`
      "Chain RPC http://127.0.0.1:8545 serves chain 31337, not the configured 1
        rpcUrl: http://127.0.0.1:8545
        expected: 1
        actual: 31337

      Point \`rpcUrl\` at a node of the configured chain, or fix \`chainId\`."
    `)
  })

  it('E_CHAIN_CONTRACT says whether the address has no code or other code', () => {
    expect(new ChainContractError(ADDRESS, 31337, 'no code').message).toMatchInlineSnapshot(`
      "No contract at 0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337
        address: 0x5FbDB2315678afecb367f032d93F642f64180aa3
        chainId: 31337
        reason: no code

      Check \`address\` and the chain: deploy the registry with deployRegistry() and use the address it returns."
    `)
    expect(new ChainContractError(ADDRESS, 31337, 'other code').message).toMatchInlineSnapshot(`
      "The contract at 0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337 is not FunctionMeshRegistry
        address: 0x5FbDB2315678afecb367f032d93F642f64180aa3
        chainId: 31337
        reason: other code

      Check \`address\`: its deployed bytecode differs from the committed artifact's (another contract, or another build)."
    `)
  })

  it('E_CHAIN_REVERT names the custom error and its arguments', () => {
    const err = new ChainRevertError('remove a publisher from acme.com', 'UnknownKey', ['0x01', '0x02'])
    expect(err.message).toMatchInlineSnapshot(`
      "FunctionMeshRegistry refused to remove a publisher from acme.com: UnknownKey(0x01, 0x02)
        operation: remove a publisher from acme.com
        error: UnknownKey
        args: ["0x01","0x02"]

      The contract error names the rule broken; see registries/chain/contracts/FunctionMeshRegistry.sol."
    `)
    expect(err.toJSON()).toMatchObject({ code: 'E_CHAIN_REVERT', details: { error: 'UnknownKey' } })
  })

  it('E_CHAIN_NOT_OWNER tells an unclaimed namespace from one another account owns', () => {
    expect(new NotNamespaceOwnerError('acme.com', ADDRESS, undefined).message).toMatchInlineSnapshot(`
      "Namespace acme.com is not claimed on chain (account 0x5FbDB2315678afecb367f032d93F642f64180aa3)
        namespace: acme.com
        account: 0x5FbDB2315678afecb367f032d93F642f64180aa3

      Claim the namespace first (\`registry.claim(namespace)\`), or leave \`autoClaim\` on."
    `)
    expect(new NotNamespaceOwnerError('acme.com', ADDRESS, 'another account').message).toMatchInlineSnapshot(`
      "Account 0x5FbDB2315678afecb367f032d93F642f64180aa3 does not own namespace acme.com on chain (owner another account)
        namespace: acme.com
        account: 0x5FbDB2315678afecb367f032d93F642f64180aa3
        owner: another account

      Send the change from the owner's account (\`signer\`), or have the owner transfer the namespace."
    `)
  })

  it('digest, pointer, size and signer errors', () => {
    expect(new ChainDigestMismatchError('acme.com/a', '0xaa', '0xbb').message).toMatchInlineSnapshot(`
      "The record bytes for acme.com/a do not match the digest anchored on chain
        name: acme.com/a
        anchored: 0xaa
        actual: 0xbb

      The pointer leads to other bytes than the ones anchored; republish the record."
    `)
    expect(
      new ChainPointerUnavailableError('acme.com/a', 'bafy', 'the content store does not hold it').message,
    ).toMatchInlineSnapshot(`
      "The anchor of acme.com/a points at bafy, which this registry cannot fetch: the content store does not hold it
        name: acme.com/a
        cid: bafy
        reason: the content store does not hold it

      Give the chain registry a \`contentStore\` (the ipfsRegistry that holds the record), and check that the IPFS node has the block (publish the record there again)."
    `)
    expect(new ChainRecordTooLargeError('acme.com/a', 5000, 4096).message).toMatchInlineSnapshot(`
      "Record acme.com/a is 5000 bytes, over the 4096 bytes a chain anchor holds inline
        name: acme.com/a
        size: 5000
        max: 4096

      Give the chain registry a \`contentStore\` (an ipfsRegistry) with \`pointer\` 'auto' or 'cid': the anchor then holds the record's CID. Or shrink the record."
    `)
    expect(new ChainCursorError('/tmp/c.json', 'is corrupt').message).toMatchInlineSnapshot(`
      "The chain event cursor /tmp/c.json is corrupt
        path: /tmp/c.json

      Check the file and its directory (the registry data dir, or \`cursor\`). Moving a corrupt file aside is safe: the registry then reads every event again from \`fromBlock\`."
    `)
    expect(new ChainNoSignerError('chain', 'publish').message).toMatchInlineSnapshot(`
      "Chain registry chain has no signer to publish
        registry: chain
        operation: publish

      Pass \`signer\` (an ethers Signer or a private key) of the namespace owner's account."
    `)
  })

  it('E_CHAIN_NOT_CONFIGURED says what to add and where: the file, fmesh init without one, --registry for a wrong id', () => {
    expect(new ChainNotConfiguredError('/x/fmesh.json', undefined).hint).toBe(
      'Add `{ "type": "chain" }` (a local anvil in the data dir) or `{ "type": "chain", "rpcUrl": "https://...", "address": "0x..." }` to "registries" in /x/fmesh.json.',
    )
    expect(new ChainNotConfiguredError('(embedded defaults)', undefined).hint).toBe(
      'No config file was found: run `fmesh init`, then add `{ "type": "chain" }` (a local anvil in the data dir) to "registries" in the fmesh.json it writes.',
    )
    expect(new ChainNotConfiguredError('/x/fmesh.json', 'chain-2').hint).toBe(
      'Pass the id of a chain registry in /x/fmesh.json with --registry, or leave --registry out for its first one.',
    )
  })
})
