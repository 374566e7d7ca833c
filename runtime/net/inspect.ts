// Looking at and steering the swarm: connected peers, this node's addresses, dialing, finding a
// peer through the DHT, and the network size estimate. Plain functions over a started libp2p node.
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { InvalidParams, NotFound, Timeout } from '../errors.ts'
import type { NetServices } from './index.ts'
import { estimateNetworkSize, normalizedDistance, type NetworkSizeEstimate } from './netsize.ts'

type Node = Libp2p<NetServices>

/** A default deadline on every network call (dial, DHT walk), so a syscall never hangs. */
export const DIAL_TIMEOUT_MS = 15_000
export const FIND_PEER_TIMEOUT_MS = 20_000

export interface PeerRow {
  peer: string
  /** Remote address of each open connection to the peer. */
  addrs: string[]
  /** Of the oldest open connection: who dialed. */
  direction: 'inbound' | 'outbound'
  /** Round trip in ms from libp2p's connection monitor (it pings every ~10 s); null until measured. */
  latencyMs: number | null
  /** True when every connection to the peer goes through a relay (no direct path yet). */
  relayed: boolean
}

const isRelayed = (c: Connection) => !c.direct || c.remoteAddr.toString().includes('/p2p-circuit')

export function swarmPeers(node: Node): PeerRow[] {
  const byPeer = new Map<string, Connection[]>()
  for (const c of node.getConnections()) {
    if (c.status !== 'open') continue
    const key = c.remotePeer.toString()
    byPeer.set(key, [...(byPeer.get(key) ?? []), c])
  }
  return [...byPeer].map(([peer, conns]) => {
    conns.sort((a, b) => a.timeline.open - b.timeline.open)
    const rtts = conns.map((c) => c.rtt).filter((r): r is number => typeof r === 'number' && r >= 0)
    return {
      peer,
      addrs: conns.map((c) => c.remoteAddr.toString()),
      direction: conns[0].direction,
      latencyMs: rtts.length ? Math.min(...rtts) : null,
      relayed: conns.every(isRelayed),
    }
  })
}

export interface AddrsRow {
  peer: string
  /** What this node announces: bound listen addresses, confirmed public ones, relay reservations. */
  addrs: string[]
  /** The subset reachable only through a relay (`…/p2p-circuit/p2p/<this node>`). */
  relayed: string[]
}

export function swarmAddrs(node: Node): AddrsRow {
  const addrs = node.getMultiaddrs().map((a) => a.toString())
  return { peer: node.peerId.toString(), addrs, relayed: addrs.filter((a) => a.includes('/p2p-circuit')) }
}

function parseAddr(text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch (err) {
    throw new InvalidParams(`not a multiaddr: ${JSON.stringify(text)} (${(err as Error).message}); e.g. /ip4/1.2.3.4/tcp/4801/p2p/12D3Koo…`)
  }
}

function parsePeer(text: string): PeerId {
  try {
    return peerIdFromString(text)
  } catch {
    throw new InvalidParams(`not a peer id: ${JSON.stringify(text)} (expected e.g. 12D3KooW…)`)
  }
}

const aborted = (err: unknown) => ['AbortError', 'TimeoutError'].includes((err as Error)?.name)

/** Dials `addr` (with or without /p2p/<id>) and returns the peer's row once the connection is up. */
export async function swarmConnect(node: Node, addr: string, timeoutMs = DIAL_TIMEOUT_MS): Promise<PeerRow> {
  const target = parseAddr(addr)
  let conn: Connection
  try {
    conn = await node.dial(target, { signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    if (aborted(err)) throw new Timeout(`no connection to ${addr} within ${timeoutMs / 1000} s`)
    // Refused, unreachable, wrong peer id, or a different private network: all "nobody there for us".
    throw new NotFound(`could not connect to ${addr}: ${(err as Error).message}`)
  }
  const row = swarmPeers(node).find((r) => r.peer === conn.remotePeer.toString())
  return row ?? { peer: conn.remotePeer.toString(), addrs: [conn.remoteAddr.toString()], direction: conn.direction, latencyMs: null, relayed: isRelayed(conn) }
}

export interface FoundPeer {
  peer: string
  addrs: string[]
  /** The peer whose answer named it. */
  from: string
}

/** Walks the DHT for `peerId` (never answering from the local cache) and returns its addresses. */
export async function dhtFindPeer(node: Node, peerId: string, timeoutMs = FIND_PEER_TIMEOUT_MS): Promise<FoundPeer> {
  const id = parsePeer(peerId)
  if (id.equals(node.peerId)) return { peer: peerId, addrs: swarmAddrs(node).addrs, from: peerId }
  try {
    for await (const event of node.services.dht.findPeer(id, { signal: AbortSignal.timeout(timeoutMs), useCache: false })) {
      if (event.name === 'FINAL_PEER') {
        return { peer: event.peer.id.toString(), addrs: event.peer.multiaddrs.map((a) => a.toString()), from: event.from.toString() }
      }
    }
  } catch (err) {
    if (aborted(err)) throw new Timeout(`the DHT did not find ${peerId} within ${timeoutMs / 1000} s`)
    if ((err as Error).name !== 'NotFoundError') throw err
  }
  throw new NotFound(`no peer of this node's DHT knows ${peerId} (routing table: ${routingTablePeers(node).length} peers)`)
}

/** The kad-dht class keeps its routing table public but outside the KadDHT interface. */
interface RoutingTableView {
  routingTable?: { kBucketSize: number; kb?: { localPeer?: { kadId: Uint8Array }; toIterable(): Iterable<{ kadId: Uint8Array }> } }
}

function routingTablePeers(node: Node): Uint8Array[] {
  const kb = (node.services.dht as unknown as RoutingTableView).routingTable?.kb
  return kb ? [...kb.toIterable()].map((p) => p.kadId) : []
}

export function dhtNetworkSize(node: Node): NetworkSizeEstimate {
  const table = (node.services.dht as unknown as RoutingTableView).routingTable
  const self = table?.kb?.localPeer?.kadId
  const peers = routingTablePeers(node)
  const distances = self ? peers.map((id) => normalizedDistance(self, id)) : []
  return estimateNetworkSize(distances, table?.kBucketSize ?? 20)
}
