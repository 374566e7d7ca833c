// Where a message goes: DHT keys that name nodes and users, announcing them, and finding the
// nodes behind a recipient id (connected peers first, then recent routes, then the DHT).
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { keyId } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import type { NetServices } from '../net/index.ts'

const RAW = 0x55
const SHA2_256 = 0x12

/** The DHT key under which the node with this id announces itself. */
export const nodeKeyCid = (nodeId: string): CID => keyCid(`leither-node:${nodeId}`)
/** The DHT key under which every node that serves this user announces itself. */
export const userKeyCid = (userId: string): CID => keyCid(`leither-user:${userId}`)

function keyCid(text: string): CID {
  return CID.createV1(RAW, Digest.create(SHA2_256, sha256(new TextEncoder().encode(text))))
}

/** The Leither node id of a peer (ids and peer ids come from the same Ed25519 key). */
export function nodeIdOfPeer(peer: PeerId): string | undefined {
  return peer.type === 'Ed25519' ? keyId(peer.publicKey.raw) : undefined
}

export interface RouteInit {
  readonly libp2p: Libp2p<NetServices>
  readonly nodeId: string
  readonly log: Logger
  /** Stops every DHT operation when the node stops. */
  readonly signal: AbortSignal
}

/** Most providers taken from one lookup; a user is rarely served by more nodes than this. */
const MAX_PROVIDERS = 4
const LOOKUP_MS = 10_000
const FIRST_HIT_GRACE_MS = 1_500
const PROVIDE_MS = 30_000
const MAX_ROUTES = 10_000

export function msgRoutes(init: RouteInit) {
  const { libp2p, nodeId, log, signal } = init
  // Recipient id → peers that took or sent messages for it lately: replies need no DHT lookup.
  const routes = new Map<string, Set<string>>()

  // The DHT's routing table: its queries wait (until their deadline) while it is empty, so
  // callers check it first and act again when it gains a peer.
  // (kad-dht types `size` only; the table is an event target too, which its own queries rely on.)
  const table = () => (libp2p.services.dht as SingleKadDHT).routingTable as unknown as { size: number } & Partial<EventTarget>

  return {
    /** Announces this node (no id) or a user served here in the DHT; throws when it did not finish. */
    async announce(userId?: string): Promise<void> {
      const cid = userId === undefined ? nodeKeyCid(nodeId) : userKeyCid(userId)
      await libp2p.contentRouting.provide(cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(PROVIDE_MS)]) })
    },

    /** Peers in the DHT routing table: 0 means a lookup or an announcement cannot work yet. */
    dhtPeers(): number {
      return table().size
    },

    /** Calls `fn` when the routing table gains a peer; returns the unsubscribe. */
    onDhtPeer(fn: () => void): () => void {
      const t = table()
      if (!t.addEventListener || !t.removeEventListener) return () => {}
      t.addEventListener('peer:add', fn)
      return () => t.removeEventListener!('peer:add', fn)
    },

    /** Remembers that `peer` handles messages for `id` (learned from traffic, so it is fresh). */
    learn(id: string, peer: PeerId): void {
      if (!routes.has(id) && routes.size >= MAX_ROUTES) routes.delete(routes.keys().next().value!)
      const set = routes.get(id) ?? new Set()
      set.add(peer.toString())
      routes.set(id, set)
    },

    forget(id: string, peer: PeerId): void {
      routes.get(id)?.delete(peer.toString())
    },

    /** Peers worth trying without a lookup: the node itself when connected, and known routes. */
    known(to: string): PeerId[] {
      const out = new Map<string, PeerId>()
      for (const conn of libp2p.getConnections()) {
        if (nodeIdOfPeer(conn.remotePeer) === to) out.set(conn.remotePeer.toString(), conn.remotePeer)
      }
      for (const p of routes.get(to) ?? []) if (!out.has(p)) out.set(p, peerIdFromString(p))
      return [...out.values()]
    },

    /** Asks the DHT which nodes announce `to` (as a node or as a user); their addresses go to the peer store. */
    async lookup(to: string, skip: ReadonlySet<string>): Promise<PeerId[]> {
      if (table().size === 0) return []
      const found = new Map<string, PeerId>()
      const done = new AbortController()
      const opSignal = AbortSignal.any([signal, done.signal, AbortSignal.timeout(LOOKUP_MS)])
      const search = async (cid: CID) => {
        try {
          for await (const info of libp2p.contentRouting.findProviders(cid, { signal: opSignal })) {
            const key = info.id.toString()
            if (info.id.equals(libp2p.peerId) || skip.has(key) || found.has(key)) continue
            if (info.multiaddrs.length) await libp2p.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }).catch(() => {})
            // A short grace after the first hit lets other nodes of the same user show up without
            // waiting for the whole query to end.
            if (found.size === 0) setTimeout(() => done.abort(), FIRST_HIT_GRACE_MS).unref?.()
            found.set(key, info.id)
            if (found.size >= MAX_PROVIDERS) done.abort()
          }
        } catch (err) {
          // An aborted lookup keeps what it found; other errors mean "nothing from this key".
          if (!opSignal.aborted) log.debug('lookup failed', { to, error: (err as Error).message })
        }
      }
      await Promise.all([search(userKeyCid(to)), search(nodeKeyCid(to))])
      return [...found.values()]
    },
  }
}

export type MsgRoutes = ReturnType<typeof msgRoutes>
