// Keeps gossipsub's streams open to every connected peer that speaks it. @libp2p/gossipsub opens its
// outbound stream once, when a peer connects, and never again while the peer stays connected: a
// stream that fails to open (the connection it picked closed meanwhile), one lost with one of
// two connections, or a peer dropped after a read error leaves that peer out of the mesh until it
// disconnects completely; so does a peer whose identify failed (libp2p tells gossipsub of a peer
// only after identify names its protocols). This pass finds such peers and hands them back.
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'

/** The parts of @libp2p/gossipsub 17's router this reads and calls (its own topology callback). */
interface GossipRouter {
  readonly protocols: string[]
  readonly peers: Map<string, PeerId>
  readonly streamsOutbound: Map<string, unknown>
  isStarted(): boolean
  onPeerConnected(peer: PeerId, connection: Connection): void
}

/** How often every connection is checked; a connection closing checks at once. */
export const GOSSIP_REPAIR_MS = 5_000

export interface GossipRepair {
  /** Checks every connected peer now; resolves with how many were handed back to gossipsub. */
  run(): Promise<number>
  stop(): void
}

export function repairGossip(libp2p: Libp2p, pubsub: unknown, intervalMs = GOSSIP_REPAIR_MS): GossipRepair {
  const router = pubsub as GossipRouter
  let running: Promise<number> | undefined
  let stopped = false
  /** Connections tried once while their peer's protocols were unknown (identify failed or pending). */
  const tried = new WeakSet<Connection>()

  async function pass(): Promise<number> {
    if (stopped || !router.isStarted()) return 0
    const byPeer = new Map<string, Connection>()
    for (const c of libp2p.getConnections()) {
      // Gossipsub keeps off limited (relayed, metered) connections, as configured by default.
      if (c.status === 'open' && c.limits === undefined && !byPeer.has(c.remotePeer.toString())) byPeer.set(c.remotePeer.toString(), c)
    }
    let repaired = 0
    for (const [id, conn] of byPeer) {
      if (router.peers.has(id) && router.streamsOutbound.has(id)) continue
      // Peers that said (identify) they speak gossipsub, each pass; a peer that has not said what
      // it speaks, once per connection; peers that speak other protocols only, never.
      const protocols = (await libp2p.peerStore.get(conn.remotePeer).catch(() => undefined))?.protocols ?? []
      if (protocols.length === 0) {
        if (tried.has(conn)) continue
        tried.add(conn)
      } else if (!protocols.some((p) => router.protocols.includes(p))) continue
      if (stopped || conn.status !== 'open') continue
      router.onPeerConnected(conn.remotePeer, conn)
      repaired++
    }
    return repaired
  }

  const run = () => {
    running ??= pass().finally(() => (running = undefined))
    return running
  }
  const timer = setInterval(() => void run(), intervalMs)
  timer.unref?.()
  const onClose = () => void run()
  libp2p.addEventListener('connection:close', onClose)
  return {
    run,
    stop() {
      stopped = true
      clearInterval(timer)
      libp2p.removeEventListener('connection:close', onClose)
    },
  }
}
