import type { Libp2p, PeerId } from '@libp2p/interface'
import { LRUCache } from 'lru-cache'
import type { Clock } from '../src/clock.js'
import type { Logger } from '../src/logger.js'

/**
 * Application score (gossipsub P5, weight 1) lost per offense. With the records topic's invalid
 * delivery weight (-10, squared counter) a peer stays above the graylist threshold (-80) after two
 * invalid records (-70), so its third is still validated and counted, and that third offense bans it.
 */
export const OFFENSE_PENALTY = 15

interface Record {
  offenses: number
  penalty: number
  bannedUntil: number
}

export interface PeerGuardInit {
  clock: Clock
  log: Logger
  maxOffenses: number
  banMs: number
  /** Reports an offense or a ban (the node turns it into `service` events). */
  onOffense(event: { peer: string; reason: string; offenses: number; banned: boolean }): void
}

/**
 * Remembers what each peer did wrong: every offense lowers its application score (gossipsub's P5,
 * so the router prunes and graylists it), and after `maxOffenses` it is disconnected and refused for
 * `banMs`. The table is bounded (LRU), so fresh peer ids cannot grow it without end.
 */
export class PeerGuard {
  private readonly peers = new LRUCache<string, Record>({ max: 4096 })
  private libp2p: Libp2p | undefined

  constructor(private readonly init: PeerGuardInit) {}

  attach(libp2p: Libp2p): void {
    this.libp2p = libp2p
  }

  /** Gossipsub's application-specific score for a peer: 0 for a clean peer, lower with every offense. */
  score(peer: string): number {
    return -(this.peers.get(peer)?.penalty ?? 0)
  }

  isBanned(peer: string): boolean {
    const entry = this.peers.get(peer)
    return entry !== undefined && entry.bannedUntil > this.init.clock.now()
  }

  offenses(peer: string): number {
    return this.peers.get(peer)?.offenses ?? 0
  }

  /** Counts an offense; the peer is banned and hung up on when it reaches the limit. */
  offense(peerId: PeerId | string, reason: string): void {
    const peer = peerId.toString()
    const entry = this.peers.get(peer) ?? { offenses: 0, penalty: 0, bannedUntil: 0 }
    entry.offenses += 1
    entry.penalty += OFFENSE_PENALTY
    const banned = entry.offenses >= this.init.maxOffenses
    if (banned) entry.bannedUntil = this.init.clock.now() + this.init.banMs
    this.peers.set(peer, entry)
    this.init.log('offense by %s: %s (%d)', peer, reason, entry.offenses)
    this.init.onOffense({ peer, reason, offenses: entry.offenses, banned })
    if (banned) this.hangUp(peerId)
  }

  /** Closes every connection to a banned peer (it is refused again on reconnect). */
  hangUp(peerId: PeerId | string): void {
    const libp2p = this.libp2p
    if (libp2p === undefined) return
    const id = typeof peerId === 'string' ? libp2p.getPeers().find((p) => p.toString() === peerId) : peerId
    if (id === undefined) return
    libp2p
      .hangUp(id)
      .catch((err: unknown) => this.init.log.error('hang up on %s: %s', peerId, (err as Error).message))
  }
}
