// Pieces both ends of bench/net.ts's stream benchmarks share: the sink protocol, the Noise cipher
// variants under comparison, and the senders that time a transfer.
import type { ICryptoInterface } from '@libp2p/noise'
import { pureJsCrypto } from '@libp2p/noise'
import { asCrypto } from '@libp2p/noise/crypto'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { bunNoiseCrypto, nobleNoiseCrypto } from '../runtime/net/crypto.ts'

export const SINK_PROTOCOL = '/leither-bench/sink/1.0.0'

/**
 * `node`: what the node uses (runtime/net/crypto.ts picks libcrypto via FFI, else noble).
 * `noble`: @noble/ciphers, pure JS. `as`: the Noise package's own `asCrypto` (AssemblyScript/wasm).
 */
export const BENCH_CIPHERS = ['node', 'noble', 'as'] as const
export type BenchCipher = (typeof BENCH_CIPHERS)[number]

export function benchNoiseCrypto(cipher: BenchCipher): ICryptoInterface {
  if (cipher === 'node') return bunNoiseCrypto
  if (cipher === 'noble') return nobleNoiseCrypto
  return { ...pureJsCrypto, ...asCrypto }
}

const CHUNK = 64 * 1024

function payload(): Uint8Array {
  // Random bytes: nothing on the path compresses, but a constant buffer is honest and cheap.
  return crypto.getRandomValues(new Uint8Array(CHUNK))
}

export interface Transfer {
  bytes: number
  ms: number
}

/** Sends `total` bytes on one libp2p stream and waits for the sink's count; times the whole. */
export async function sendLibp2p(node: Libp2p, addr: string, total: number): Promise<Transfer> {
  const chunk = payload()
  const stream = await node.dialProtocol(multiaddr(addr), SINK_PROTOCOL)
  const reply = new Promise<number>((resolve, reject) => {
    let buf = new Uint8Array(0)
    stream.addEventListener('message', (e) => {
      const data = e.data.subarray()
      const joined = new Uint8Array(buf.length + data.length)
      joined.set(buf)
      joined.set(data, buf.length)
      buf = joined
      if (buf.length >= 8) resolve(Number(new DataView(buf.buffer).getBigUint64(0)))
    })
    stream.addEventListener('close', (e) => (e.error ? reject(e.error) : reject(new Error('sink closed without a count'))))
  })
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!stream.send(chunk)) await stream.onDrain()
  }
  await stream.close()
  const got = await reply
  const ms = performance.now() - t0
  if (got !== total) throw new Error(`sink counted ${got} bytes, sent ${total}`)
  return { bytes: total, ms }
}

/** The same over raw TCP (Bun.connect), the ceiling for any protocol on this machine. */
export async function sendRaw(port: number, total: number): Promise<Transfer> {
  const chunk = payload()
  const { promise: reply, resolve, reject } = Promise.withResolvers<number>()
  let wake = () => {}
  let answer = new Uint8Array(0)
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_s, data) {
        const joined = new Uint8Array(answer.length + data.length)
        joined.set(answer)
        joined.set(data, answer.length)
        answer = joined
        if (answer.length >= 8) resolve(Number(new DataView(answer.buffer).getBigUint64(0)))
      },
      drain() {
        wake()
      },
      error(_s, err) {
        reject(err)
      },
    },
  })
  const header = new Uint8Array(8)
  new DataView(header.buffer).setBigUint64(0, BigInt(total))
  const t0 = performance.now()
  // Bun.connect's write takes what the kernel accepts and returns the count; the rest waits for drain.
  const writeAll = async (buf: Uint8Array) => {
    let off = 0
    while (off < buf.length) {
      const n = socket.write(buf.subarray(off))
      off += n
      if (off < buf.length) {
        // Set synchronously after the short write: the drain callback can only run later.
        const next = Promise.withResolvers<void>()
        wake = next.resolve
        await next.promise
      }
    }
  }
  await writeAll(header)
  for (let sent = 0; sent < total; sent += CHUNK) await writeAll(chunk)
  const got = await reply
  const ms = performance.now() - t0
  socket.end()
  if (got !== total) throw new Error(`raw sink counted ${got} bytes, sent ${total}`)
  return { bytes: total, ms }
}
