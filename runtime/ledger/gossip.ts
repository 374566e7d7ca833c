// Final blocks over gossipsub (topic /leither/coin/final/1): published once, spread by the mesh to
// every node that subscribes; nodes that do not are handed them over /leither/coin/1.0.0 instead.
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '../log/index.ts'
import type { NetServices } from '../net/index.ts'
import { decodeCbor, encodeCbor } from '../net/wire.ts'
import { finalBlockOf, type FinalBlock } from './proto.ts'

export const COIN_TOPIC = '/leither/coin/final/1'

export interface CoinGossip {
  /** Publishes a final block; resolves with the peers it went to directly. */
  publish(f: FinalBlock): Promise<number>
  /** Node ids (peer id strings) of connected peers that take final blocks by gossip. */
  subscribers(): Set<string>
  stop(): void
}

/** Subscribes, and hands every well-formed final block from the topic to `take` with the peer it came from. */
export function coinGossip(libp2p: Libp2p<NetServices>, log: Logger, take: (f: FinalBlock, from: PeerId | undefined) => Promise<void>): CoinGossip {
  const pubsub = libp2p.services.pubsub
  const onMessage = (evt: CustomEvent<{ topic: string; data: Uint8Array; from?: PeerId }>) => {
    const msg = evt.detail
    if (msg.topic !== COIN_TOPIC) return
    let f: FinalBlock
    try {
      f = finalBlockOf(decodeCbor(msg.data))
    } catch (err) {
      log.info('ignored a malformed final block from gossip', { from: msg.from?.toString(), error: (err as Error).message })
      return
    }
    take(f, msg.from).catch((err) => log.debug('a final block from gossip was not taken in', { from: msg.from?.toString(), error: (err as Error).message }))
  }
  pubsub.addEventListener('message', onMessage as never)
  pubsub.subscribe(COIN_TOPIC)
  return {
    async publish(f) {
      const sent = await pubsub.publish(COIN_TOPIC, encodeCbor({ block: f.block, cosigs: f.cosigs })).catch(() => ({ recipients: [] as unknown[] }))
      return sent.recipients.length
    },
    subscribers: () => new Set(pubsub.getSubscribers(COIN_TOPIC).map((p) => p.toString())),
    stop() {
      pubsub.removeEventListener('message', onMessage as never)
      pubsub.unsubscribe(COIN_TOPIC)
    },
  }
}
