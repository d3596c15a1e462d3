/** One of the dev accounts anvil funds at genesis, with its private key. */
export interface DevAccount {
  readonly address: string
  readonly privateKey: string
}

/** What anvil's start-up banner says, read line by line until it prints where it listens. */
export class AnvilBanner {
  readonly addresses: string[] = []
  readonly privateKeys: string[] = []
  port: number | undefined
  private section: 'accounts' | 'keys' | undefined

  /** Feeds one line of stdout; returns true once the `Listening on` line has been read. */
  read(line: string): boolean {
    const text = line.trim()
    if (text === 'Available Accounts') this.section = 'accounts'
    else if (text === 'Private Keys') this.section = 'keys'
    else if (text === 'Wallet') this.section = undefined
    const entry = /^\((\d+)\) (0x[0-9a-fA-F]+)/.exec(text)
    if (entry !== null && this.section === 'accounts') this.addresses.push(entry[2]!)
    if (entry !== null && this.section === 'keys') this.privateKeys.push(entry[2]!)
    const listening = /^Listening on 127\.0\.0\.1:(\d+)$/.exec(text)
    if (listening !== null) this.port = Number(listening[1])
    return this.port !== undefined
  }

  accounts(): DevAccount[] {
    return this.addresses.map((address, i) => ({ address, privateKey: this.privateKeys[i] ?? '' }))
  }
}
