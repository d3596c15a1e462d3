import { startAnvil } from '../../registries/chain/startAnvil.js'

// Starts anvil, prints its pid, and exits without stopping it: `natural` lets the event loop run
// dry, `exit` calls process.exit. The parent checks that anvil died with this process.
const node = await startAnvil()
process.stdout.write(`${node.pid}\n`)
if (process.argv[2] === 'exit') process.exit(0)
