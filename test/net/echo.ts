// A tiny test protocol for moving big messages between nodes: the server echoes every byte back and
// closes when the client has; the client checks the bytes that come back are the ones it sent.
// Big messages matter because Noise switches ciphers by frame size (see runtime/net/crypto.ts).
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'

export const ECHO_PROTOCOL = '/leither-test/echo/1.0.0'

export async function serveEcho(node: Libp2p): Promise<void> {
  await node.handle(
    ECHO_PROTOCOL,
    async (stream: Stream) => {
      for await (const chunk of stream) if (!stream.send(chunk)) await stream.onDrain()
      await stream.close()
    },
    // Relayed connections are "limited"; the relay test echoes through one.
    { runOnLimitedConnection: true },
  )
}

/** Pseudo-random bytes (crypto.getRandomValues stops at 64 KiB per call). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let off = 0; off < length; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(off + 65536, length)))
  return out
}

/**
 * Opens a new connection from `node` to `addr` even when one to that peer exists already, so a
 * test knows which transport (TCP, WebSockets, relay) its bytes take.
 */
export function connectVia(node: Libp2p, addr: string): Promise<Connection> {
  return node.dial(multiaddr(addr), { force: true, signal: AbortSignal.timeout(20_000) })
}

/** Sends `message` on a new stream of `conn` and returns what came back. */
export async function echo(conn: Connection, message: Uint8Array): Promise<Uint8Array> {
  const stream = await conn.newStream(ECHO_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(20_000) })
  const received: Uint8Array[] = []
  const reading = (async () => {
    for await (const chunk of stream) received.push(chunk.subarray())
  })()
  // Several sends of uneven sizes: frames of every length, not one aligned block.
  for (let off = 0, step = 40_000; off < message.length; off += step, step = step === 40_000 ? 100_003 : 40_000) {
    if (!stream.send(message.subarray(off, Math.min(off + step, message.length)))) await stream.onDrain()
  }
  await stream.close()
  await reading
  return Buffer.concat(received)
}
