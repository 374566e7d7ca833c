// Where the net's protocols report traffic: one call where bytes are served, one where they are
// received, one gate before serving. The ledger registers the hook (net knows nothing of coins);
// a node with metering off registers nothing: each is a lookup.
import type { Libp2p, PeerId } from '@libp2p/interface'

export interface TrafficHook {
  served(peer: PeerId, bytes: number): void
  received(peer: PeerId, bytes: number): void
  /** Resolves when `peer` may be served; throws PaymentRequired when it is cut off. */
  gate(peer: PeerId): Promise<void> | undefined
}

const hooks = new WeakMap<Libp2p, TrafficHook>()

export function registerTraffic(libp2p: Libp2p, hook: TrafficHook): () => void {
  hooks.set(libp2p, hook)
  return () => hooks.get(libp2p) === hook && hooks.delete(libp2p)
}

/** Bytes of a message this node serves to `peer`. */
export function meterServed(libp2p: Libp2p, peer: PeerId, bytes: number): void {
  hooks.get(libp2p)?.served(peer, bytes)
}

/** Bytes of a message this node received from `peer` (its own count of what it may be asked to pay). */
export function meterReceived(libp2p: Libp2p, peer: PeerId, bytes: number): void {
  hooks.get(libp2p)?.received(peer, bytes)
}

/** Before serving `peer`: waits for a settlement under way, refuses a peer past the disconnect threshold. */
export function trafficGate(libp2p: Libp2p, peer: PeerId): Promise<void> | undefined {
  return hooks.get(libp2p)?.gate(peer)
}

/** Bytes a delta part or record takes on the wire, near enough to price it (strings, bytes, numbers). */
export function sizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length + 2
  if (v instanceof Uint8Array) return v.byteLength + 4
  if (Array.isArray(v)) {
    let n = 2
    for (const x of v) n += sizeOf(x)
    return n
  }
  if (v && typeof v === 'object') {
    let n = 2
    for (const [k, x] of Object.entries(v)) n += k.length + 1 + sizeOf(x)
    return n
  }
  return 9
}
