// One end of bench/net.ts's stream benchmarks, in its own process (so each end has its own core
// and a profile of its own):
//
//   bun bench/net-peer.ts sink raw                          → ready PORT
//   bun bench/net-peer.ts sink libp2p CIPHER tcp|ws         → ready MULTIADDR
//   bun bench/net-peer.ts send raw PORT BYTES RUNS          → "warm", then "result BYTES MS CPU_MS" per run
//   bun bench/net-peer.ts send libp2p CIPHER ADDR BYTES RUNS
//
// Sinks count bytes and answer the count once the sender is done, so a run's clock stops only when
// every byte has arrived. A sink exits when its stdin closes; a sender after its last run.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { applyBunCompat } from '../runtime/net/bun-compat.ts'
import { benchNoiseCrypto, sendLibp2p, sendRaw, SINK_PROTOCOL, type BenchCipher } from './net-stack.ts'

const WARMUP_BYTES = 16 * 1024 * 1024

const countBytes = (n: number) => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(n))
  return out
}

function rawSink(): string {
  // Raw TCP: the sender first sends the 8-byte length it will send; the sink answers once it
  // has counted that many bytes.
  const server = Bun.listen<{ expect: number; got: number; header: Uint8Array }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(s) {
        s.data = { expect: -1, got: 0, header: new Uint8Array(0) }
      },
      data(s, chunk) {
        const st = s.data
        if (st.expect < 0) {
          const joined = new Uint8Array(st.header.length + chunk.length)
          joined.set(st.header)
          joined.set(chunk, st.header.length)
          if (joined.length < 8) {
            st.header = joined
            return
          }
          st.expect = Number(new DataView(joined.buffer).getBigUint64(0))
          st.got = joined.length - 8
        } else st.got += chunk.length
        if (st.got >= st.expect) s.end(countBytes(st.got))
      },
    },
  })
  return String(server.port)
}

function bareNode(cipher: BenchCipher, listen: string[]): Promise<Libp2p> {
  applyBunCompat()
  // The node's own transport, encrypter and muxer with their defaults (runtime/net/index.ts),
  // and nothing else: no DHT or gossip traffic in the measurement.
  return createLibp2p({
    addresses: { listen },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise({ crypto: benchNoiseCrypto(cipher) })],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
  })
}

async function libp2pSink(cipher: BenchCipher, transport: 'tcp' | 'ws'): Promise<string> {
  const node = await bareNode(cipher, [transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : '/ip4/127.0.0.1/tcp/0/ws'])
  await node.handle(SINK_PROTOCOL, (stream) => {
    let got = 0
    stream.addEventListener('message', (e) => (got += e.data.byteLength))
    stream.addEventListener('remoteCloseWrite', () => {
      stream.send(countBytes(got))
      void stream.close().catch(() => {})
    })
  })
  return node.getMultiaddrs()[0].toString()
}

async function send(args: string[]): Promise<void> {
  const [kind, ...rest] = args
  const runs = Number(rest.at(-1))
  const bytes = Number(rest.at(-2))
  let once: (n: number) => Promise<{ ms: number }>
  if (kind === 'raw') {
    const port = Number(rest[0])
    once = (n) => sendRaw(port, n)
  } else {
    const [cipher, addr] = rest as [BenchCipher, string]
    const node = await bareNode(cipher, [])
    once = (n) => sendLibp2p(node, addr, n)
  }
  await once(WARMUP_BYTES)
  process.stdout.write('warm\n')
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage()
    const { ms } = await once(bytes)
    const used = process.cpuUsage(cpu)
    process.stdout.write(`result ${bytes} ${ms.toFixed(1)} ${((used.user + used.system) / 1000).toFixed(1)}\n`)
  }
}

const [role, ...args] = process.argv.slice(2)
if (role === 'send') {
  await send(args)
  process.exit(0)
} else {
  const [kind, cipher, transport] = args
  const addr = kind === 'raw' ? rawSink() : await libp2pSink(cipher as BenchCipher, (transport ?? 'tcp') as 'tcp' | 'ws')
  process.stdout.write(`ready ${addr}\n`)
  // The parent holds our stdin open; when it closes (or the parent dies), we exit.
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
}
