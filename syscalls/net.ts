// The net family: the swarm (peers, addresses, dialing) and the DHT (finding a peer, network size).
//
// Capabilities. SwarmAddrs and DhtNetworkSize are `public`: this node's addresses are public
// already (GetVar nodeaddrs) and a count reveals nothing. SwarmPeers is `session`: it lists other
// people's IP addresses. DhtFindPeer is `session`: it makes the node walk the network, which a
// guest should not be able to trigger at will. SwarmConnect is `node.admin`: only the owner
// decides whom the node connects to. Guest calls are rate-limited per remote address.
import { InvalidParams } from '../runtime/errors.ts'
import type { Net } from '../runtime/net/index.ts'
import { dhtFindPeer, dhtNetworkSize, swarmAddrs, swarmConnect, swarmPeers } from '../runtime/net/inspect.ts'
import { limitGuest } from '../runtime/permissions/ratelimit.ts'
import { syscall, type CallContext, type SyscallRow } from './row.ts'

const PEER_ROW = '{peer, addrs, direction, latencyMs, relayed}'

function libp2p(ctx: CallContext): Net['libp2p'] {
  if (!ctx.sys.net) throw new InvalidParams('this node runs offline (p2p: false); start it with the network (without --offline) to use the swarm and the DHT')
  return ctx.sys.net.libp2p
}

export const NET_SYSCALLS: SyscallRow[] = [
  syscall<[]>({
    name: 'SwarmPeers',
    sid: true,
    params: [],
    returns: `list of ${PEER_ROW}`,
    returnsType: 'PeerInfo[]',
    capability: 'session',
    errors: ['PermissionDenied', 'InvalidParams'],
    doc: 'Nodes this node is connected to: peer id, remote address of each connection, who dialed, round trip (null until measured) and whether the only path is through a relay.',
    handler: (ctx) => swarmPeers(libp2p(ctx)),
  }),
  syscall<[string, number | undefined]>({
    name: 'SwarmConnect',
    sid: true,
    params: [
      { name: 'multiaddr', type: 'string', doc: 'address to dial, e.g. /ip4/1.2.3.4/tcp/4801/p2p/12D3Koo… (relayed: …/p2p/RELAY/p2p-circuit/p2p/PEER)' },
      { name: 'timeoutSec', type: 'int', optional: true, doc: 'give up after this many seconds, 1..120 (default 15)' },
    ],
    returns: PEER_ROW,
    returnsType: 'PeerInfo',
    capability: 'node.admin',
    errors: ['PermissionDenied', 'InvalidParams', 'NotFound', 'Timeout'],
    doc: 'Connects to another node. NotFound when nobody answers for us there: refused, unreachable, or another peer id; Timeout when the other side never completes the handshake (typically a node of another private network: with a different key its bytes are noise).',
    handler: (ctx, addr, timeoutSec) => {
      if (timeoutSec !== undefined && (timeoutSec < 1 || timeoutSec > 120)) throw new InvalidParams(`SwarmConnect: timeoutSec must be 1..120, got ${timeoutSec}`)
      return swarmConnect(libp2p(ctx), addr, timeoutSec === undefined ? undefined : timeoutSec * 1000)
    },
  }),
  syscall<[]>({
    name: 'SwarmAddrs',
    sid: true,
    params: [],
    returns: '{peer, addrs, relayed}',
    returnsType: '{ peer: string; addrs: string[]; relayed: string[] }',
    capability: 'public',
    errors: ['InvalidParams', 'Busy'],
    doc: "This node's peer id and the addresses it announces (listen addresses, confirmed public ones, relay reservations); `relayed` lists those that go through a relay. Without a session: 20 calls at once, then 5 a second per address (Busy past that).",
    handler: (ctx) => {
      limitGuest(ctx.sys, ctx.grant, ctx.meta, 'SwarmAddrs')
      return swarmAddrs(libp2p(ctx))
    },
  }),
  syscall<[string]>({
    name: 'DhtFindPeer',
    sid: true,
    params: [{ name: 'peerId', type: 'string', doc: 'the node to look for, e.g. 12D3KooW…' }],
    returns: '{peer, addrs, from}',
    returnsType: '{ peer: string; addrs: string[]; from: string }',
    capability: 'session',
    errors: ['PermissionDenied', 'InvalidParams', 'NotFound', 'Timeout'],
    doc: 'Asks the DHT (not the local cache) for the addresses of a node; `from` is the peer whose answer named it. 20 s deadline.',
    handler: (ctx, peerId) => dhtFindPeer(libp2p(ctx), peerId),
  }),
  syscall<[]>({
    name: 'DhtNetworkSize',
    sid: true,
    params: [],
    returns: '{routingTable, estimate, method, sample}',
    returnsType: "{ routingTable: number; estimate: number; method: 'count' | 'density'; sample: number }",
    capability: 'public',
    errors: ['InvalidParams', 'Busy'],
    doc: 'How many nodes the network has, estimated from the routing table: its size + 1 while it holds fewer than k (20) peers (method "count"), else a fit of the XOR distances of the 20 closest peers, N = Σi² / Σi·dᵢ (method "density"; see runtime/net/netsize.ts). Without a session: 20 calls at once, then 5 a second per address (Busy past that).',
    handler: (ctx) => {
      limitGuest(ctx.sys, ctx.grant, ctx.meta, 'DhtNetworkSize')
      return dhtNetworkSize(libp2p(ctx))
    },
  }),
]
