// Defaults of chainRegistry's options.

/** Blocks a publish waits for after its own; 0 suits a dev chain. @default 0 */
export const DEFAULT_CHAIN_CONFIRMATIONS = 0
/** How old the trust cache may be before `publishersOf` reads new events. @default 1000 */
export const DEFAULT_CHAIN_TRUST_MAX_AGE_MS = 1000
/**
 * How long one JSON-RPC request to the node at `rpcUrl` may take before it fails with E_CHAIN_RPC
 * (ethers' own default is 300 s). The event follower runs one sync at a time, so a request the node
 * never answers would otherwise hold every later sync, and every lookup waiting for one, for five
 * minutes; bounded, the next poll tries again. @default 10000
 */
export const DEFAULT_CHAIN_RPC_TIMEOUT_MS = 10_000
/** How often `watch` polls for new events. @default 1000 */
export const DEFAULT_CHAIN_POLL_INTERVAL_MS = 1000
/** How many blocks back the event follower undoes a reorg log by log; a deeper one re-reads every event. @default 256 */
export const CHAIN_REORG_WINDOW_BLOCKS = 256
