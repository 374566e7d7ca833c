// Metering the circuit relay: libp2p's relay server pipes a source peer's hop stream into a stop
// stream it opens to the destination, and exposes no byte counts. Both streams emit a 'message'
// event per chunk read (the relay's own data limit counts bytes that way), so a chunk read from the
// destination is counted as served to the source and the other way round. A source past the
// disconnect threshold gets no reservation and no circuit, and its open circuits are closed once it
// has refused to settle.
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'

const HOP = '/libp2p/circuit/relay/0.2.0/hop'

interface Registrar {
  getHandler(protocol: string): { handler: (stream: Stream, connection: Connection) => void | Promise<void>; options: Record<string, unknown> }
}
interface RelayServer {
  onHop(stream: Stream, connection: Connection): Promise<void>
  stopHop(args: { connection: Connection; request: { peer?: { id: Uint8Array } } }, options: unknown): Promise<Stream | undefined>
}

export interface RelayMeter {
  /** Bytes relayed to `peer` (read from the other end of its circuit). */
  served(peer: PeerId, bytes: number): void
  /** Throws when `peer` may not use the relay. */
  gate(peer: PeerId): Promise<void>
  /** True when `peer` is cut off and refused to settle: its circuits are closed. */
  refusing(peer: PeerId): boolean
}

/** A circuit: the source's hop stream, and once connected the destination and the stop stream to it. */
interface Hop {
  src: PeerId
  in: Stream
  dst?: PeerId
  out?: Stream
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')
const chunkBytes = (e: Event) => ((e as MessageEvent<{ byteLength: number }>).data?.byteLength ?? 0)

/** Meters this node's relay server, when it runs one; returns the undo. */
export async function meterRelay(libp2p: Libp2p, meter: RelayMeter): Promise<() => Promise<void>> {
  const relay = (libp2p.services as Record<string, unknown>).relay as RelayServer | undefined
  const registrar = (libp2p as unknown as { components?: { registrar?: Registrar } }).components?.registrar
  if (!relay || !registrar) return async () => {}
  let original: ReturnType<Registrar['getHandler']>
  try {
    original = registrar.getHandler(HOP)
  } catch {
    return async () => {}
  }
  /** Hop streams waiting for their circuit, by the source's multihash: bytes they carry go to the destination once known. */
  const waiting = new Map<string, Hop[]>()
  /** Counts a chunk relayed to `to`; a circuit with an end that refuses to pay past the threshold is closed. */
  const charge = (hop: Hop, to: PeerId, bytes: number) => {
    meter.served(to, bytes)
    if (meter.refusing(to)) {
      const err = new Error(`relay traffic of ${to} is past the disconnect threshold and unpaid`)
      hop.in.abort(err)
      hop.out?.abort(err)
    }
  }
  const stopHop = relay.stopHop.bind(relay)

  relay.stopHop = async (args, options) => {
    const dst = await stopHop(args, options)
    const key = args.request.peer ? hexOf(args.request.peer.id) : ''
    const hop = waiting.get(key)?.find((h) => !h.dst)
    const src = hop?.src
    if (dst && hop && src) {
      hop.dst = args.connection.remotePeer
      hop.out = dst
      dst.addEventListener('message', (e) => charge(hop, src, chunkBytes(e)))
    }
    return dst
  }

  const onHop = async (stream: Stream, connection: Connection) => {
    const src = connection.remotePeer
    try {
      await meter.gate(src)
    } catch (err) {
      stream.abort(err as Error)
      return
    }
    const key = hexOf(src.toMultihash().bytes)
    const hop: Hop = { src, in: stream }
    waiting.set(key, [...(waiting.get(key) ?? []), hop])
    stream.addEventListener('message', (e) => hop.dst && charge(hop, hop.dst, chunkBytes(e)))
    try {
      await relay.onHop(stream, connection)
    } finally {
      const left = (waiting.get(key) ?? []).filter((h) => h !== hop)
      if (left.length) waiting.set(key, left)
      else waiting.delete(key)
    }
  }
  await libp2p.handle(HOP, onHop, { ...original.options, force: true })
  return async () => {
    relay.stopHop = stopHop
    await libp2p.handle(HOP, original.handler, { ...original.options, force: true }).catch(() => {})
  }
}

/** The relay `peer` is reached through, when every connection to it is a circuit (…/p2p/RELAY/p2p-circuit). */
export function relayOf(libp2p: Libp2p, peer: PeerId): string | undefined {
  const conns = libp2p.getConnections(peer)
  if (!conns.length || conns.some((c) => c.limits === undefined)) return undefined
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(conns[0]!.remoteAddr.toString())?.[1]
}
