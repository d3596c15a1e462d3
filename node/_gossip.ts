import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../src/logger.js'
import type { Intake } from './_intake.js'
import type { PeerGuard } from './_peerGuard.js'

export interface GossipEvent {
  outcome: 'accepted' | 'rejected' | 'ignored'
  from: string
  name?: string
  reason?: string
  seq?: number
}

export interface RecordGossipInit {
  pubsub: GossipSub
  topic: string
  intake: Intake
  guard: PeerGuard
  log: Logger
  onGossip(event: GossipEvent): void
}

/**
 * Record announcements on the records topic. Every message is checked in gossipsub's validation,
 * before it is forwarded: the record's size before parsing, then the mesh's verifier and the seq
 * ledger. Valid and new: Accept (stored, reported). Forged, malformed, oversize or rolled back:
 * Reject, which scores the sender down (and counts an offense against it). The very record again, or
 * one we cannot judge (an unowned namespace, an expired record): Ignore.
 */
export class RecordGossip {
  constructor(private readonly init: RecordGossipInit) {}

  start(): void {
    const { pubsub, topic } = this.init
    pubsub.topicValidators.set(topic, this.validate)
    pubsub.subscribe(topic)
  }

  stop(): void {
    const { pubsub, topic } = this.init
    if (pubsub.topicValidators.get(topic) === this.validate) pubsub.topicValidators.delete(topic)
    try {
      pubsub.unsubscribe(topic)
    } catch (err) {
      this.init.log('unsubscribe: %s', (err as Error).message)
    }
  }

  /** Announces a record this node stored; a node with no peers yet keeps it for anti-entropy. */
  async announce(bytes: Uint8Array): Promise<void> {
    try {
      await this.init.pubsub.publish(this.init.topic, bytes)
    } catch (err) {
      this.init.log('announce: %s', (err as Error).message)
    }
  }

  private readonly validate = async (peer: PeerId, message: Message): Promise<TopicValidatorResult> => {
    const from = peer.toString()
    const outcome = await this.init.intake.admit(message.data, `peer:${from}`, 'gossip', { remember: false })
    switch (outcome.status) {
      case 'accepted':
        this.init.onGossip({ outcome: 'accepted', from, name: outcome.record.name, seq: outcome.record.seq })
        return TopicValidatorResult.Accept
      case 'refused':
        this.init.onGossip({
          outcome: 'rejected',
          from,
          reason: outcome.reason,
          ...(outcome.name === undefined ? {} : { name: outcome.name }),
        })
        this.init.guard.offense(peer, `gossip:${outcome.reason}`)
        return TopicValidatorResult.Reject
      case 'ignored':
        this.init.onGossip({
          outcome: 'ignored',
          from,
          reason: outcome.reason,
          ...(outcome.name === undefined ? {} : { name: outcome.name }),
        })
        return TopicValidatorResult.Ignore
      default:
        return TopicValidatorResult.Ignore
    }
  }
}
