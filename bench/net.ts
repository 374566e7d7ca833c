// `bun bench/net.ts [--quick] [--mib N] [--runs N] [--keys N] [--skip-dht]`: the network under Bun
// → bench/RESULTS.md: encrypted stream throughput (our libp2p stack next to raw TCP, per Noise
// cipher, with a CPU profile split by layer) and DHT provider lookup latency in a 20-node network.
//
// Streams: both ends are separate Bun processes (bench/net-peer.ts) on 127.0.0.1, so each has a
// core: a sink that counts bytes and a sender that times `BYTES` from its first write until the
// sink has confirmed the count. libp2p lines use the node's own transports, Noise and Yamux with
// their defaults (runtime/net/index.ts) and nothing else on the connection.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { asCrypto } from '@libp2p/noise/crypto'
import { selectNoiseCrypto } from '../runtime/net/crypto.ts'
import { loadLibcryptoAead } from '../runtime/net/libcrypto.ts'
import { measureDhtLookups, percentile } from './net-dht.ts'
import { LAYERS, layerShares, profileIn } from './net-profile.ts'
import type { BenchCipher } from './net-stack.ts'
import { machineLine, table, writeSection } from './results.ts'

const ROOT = join(import.meta.dir, '..')
const PEER = join(import.meta.dir, 'net-peer.ts')
const MiB = 1024 * 1024
const GOAL_MIBS = 100

// ---- arguments ----
const has = (name: string) => process.argv.includes(`--${name}`)
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`)
  return v
}
const QUICK = has('quick')
const BIG_MIB = flag('mib', QUICK ? 64 : 256)
/** The pure-JS ciphers run at ~1/8 the speed: a quarter of the bytes keeps the run short. */
const SMALL_MIB = Math.max(16, Math.round(BIG_MIB / 4))
const RUNS = flag('runs', QUICK ? 1 : 3)
const KEYS = flag('keys', QUICK ? 10 : 40)
const DHT_NODES = 20

// ---- child processes: tracked so none outlives this script ----
const live = new Set<Bun.Subprocess>()
const tempDirs: string[] = []
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130))

function spawn(args: string[], profileDir?: string) {
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const proc = Bun.spawn([process.execPath, ...prof, PEER, ...args], { cwd: ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  live.add(proc)
  proc.exited.then(() => live.delete(proc))
  const stderr = new Response(proc.stderr).text()
  const reader = proc.stdout.getReader()
  let buf = ''
  const decoder = new TextDecoder()
  /** The next stdout line; rejects with stderr when the process ends first. */
  const line = async (): Promise<string> => {
    while (!buf.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`bench/net-peer.ts ${args.join(' ')} exited (${await proc.exited}): ${(await stderr).slice(-2000)}`)
      buf += decoder.decode(value, { stream: true })
    }
    const at = buf.indexOf('\n')
    const out = buf.slice(0, at)
    buf = buf.slice(at + 1)
    return out
  }
  return { proc, line }
}

/** CPU time (user + system, all threads) of a process so far, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

interface StreamLine {
  name: string
  mib: number
  /** MiB/s per run. */
  rates: number[]
  /** CPU ms per MiB, sender and sink, over all runs. */
  senderCpu: number
  sinkCpu: number
}

async function streamLine(name: string, sink: string[], send: (addr: string) => string[], mib: number, runs = RUNS, profile?: { sink: string; sender: string }): Promise<StreamLine> {
  const s = spawn(sink, profile?.sink)
  const ready = await s.line()
  if (!ready.startsWith('ready ')) throw new Error(`sink said ${ready}`)
  const sender = spawn([...send(ready.slice(6)), String(mib * MiB), String(runs)], profile?.sender)
  if ((await sender.line()) !== 'warm') throw new Error('sender did not warm up')
  let sinkBefore = cpuMs(s.proc.pid)
  const rates: number[] = []
  let senderCpu = 0
  let sinkCpu = 0
  for (let i = 0; i < runs; i++) {
    const [, bytes, ms, cpu] = (await sender.line()).split(' ').map(Number)
    const sinkNow = cpuMs(s.proc.pid)
    rates.push(bytes / MiB / (ms / 1000))
    senderCpu += cpu
    sinkCpu += sinkNow - sinkBefore
    sinkBefore = sinkNow
  }
  await sender.proc.exited
  s.proc.stdin.end()
  await s.proc.exited
  return { name, mib, rates, senderCpu: senderCpu / (mib * runs), sinkCpu: sinkCpu / (mib * runs) }
}

const median = (xs: number[]) => percentile(xs, 50)
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

/** The cipher alone: sealing 64 KiB frames (Noise's largest) for about a second. */
function cipherOnly(): { name: string; mibs: number }[] {
  const key = crypto.getRandomValues(new Uint8Array(32))
  const nonce = new Uint8Array(12)
  const ad = new Uint8Array(0)
  const frame = crypto.getRandomValues(new Uint8Array(65519))
  const time = (seal: () => unknown) => {
    for (let i = 0; i < 20; i++) seal()
    const t0 = performance.now()
    let n = 0
    while (performance.now() - t0 < 1000) {
      seal()
      n++
    }
    return (n * frame.length) / MiB / ((performance.now() - t0) / 1000)
  }
  const out = [
    { name: '@noble/ciphers (pure JS)', mibs: time(() => chacha20poly1305(key, nonce, ad).encrypt(frame)) },
    { name: '@chainsafe/as-chacha20poly1305 (wasm, the package\'s asCrypto)', mibs: time(() => asCrypto.chaCha20Poly1305Encrypt(frame, nonce, ad, key)) },
  ]
  const native = loadLibcryptoAead()
  if (native) out.unshift({ name: 'libcrypto.so.3 EVP via bun:ffi', mibs: time(() => native.seal(key, nonce, ad, frame)) })
  return out
}

/**
 * The cipher's share of each end's CPU, from the cipher-alone speed: a sampling profiler places
 * the short FFI calls coarsely, so this is the figure to trust for the native cipher.
 */
function crossCheck(ciphers: { name: string; mibs: number }[], line: StreamLine, nodeCipher: string): string {
  const own = ciphers.find((c) => c.name.startsWith(nodeCipher === 'libcrypto' ? 'libcrypto' : '@noble'))
  if (!own) return ''
  const cost = 1000 / own.mibs
  const share = (cpu: number) => `${Math.round((cost / cpu) * 100)} %`
  return (
    `Cross-check: at the cipher-alone speed, ${nodeCipher} spends ${cost.toFixed(2)} ms per MiB sealing (or opening) — ` +
    `${share(line.senderCpu)} of the sender's ${line.senderCpu.toFixed(1)} ms and ${share(line.sinkCpu)} of the sink's ${line.sinkCpu.toFixed(1)} ms per MiB ` +
    'on the TCP line.'
  )
}

async function streams(): Promise<string> {
  const libp2p = (cipher: BenchCipher, transport: 'tcp' | 'ws') => ['sink', 'libp2p', cipher, transport]
  const sendVia = (cipher: BenchCipher) => (addr: string) => ['send', 'libp2p', cipher, addr]
  const nodeCipher = selectNoiseCrypto().cipher
  const lines: StreamLine[] = []
  const step = (l: StreamLine) => {
    lines.push(l)
    console.error(`${l.name}: ${l.rates.map(fmt).join(', ')} MiB/s`)
  }
  step(await streamLine('raw TCP (Bun.listen / Bun.connect)', ['sink', 'raw'], (port) => ['send', 'raw', port], BIG_MIB))
  step(await streamLine(`libp2p TCP + Noise (node: ${nodeCipher}) + Yamux`, libp2p('node', 'tcp'), sendVia('node'), BIG_MIB))
  step(await streamLine(`libp2p WebSockets + Noise (node: ${nodeCipher}) + Yamux`, libp2p('node', 'ws'), sendVia('node'), BIG_MIB))
  step(await streamLine('libp2p TCP + Noise (@noble/ciphers) + Yamux', libp2p('noble', 'tcp'), sendVia('noble'), SMALL_MIB))
  step(await streamLine("libp2p TCP + Noise (package's asCrypto) + Yamux", libp2p('as', 'tcp'), sendVia('as'), SMALL_MIB))
  const raw = median(lines[0].rates)
  const ours = median(lines[1].rates)

  // Where the time goes: one profiled run per cipher, both ends.
  const profiled: { name: string; sender: Record<string, number>; sink: Record<string, number> }[] = []
  for (const [cipher, mib] of [
    ['node', BIG_MIB * 2],
    ['noble', SMALL_MIB],
  ] as const) {
    const dirs = { sink: mkdtempSync(join(tmpdir(), 'leither-prof-')), sender: mkdtempSync(join(tmpdir(), 'leither-prof-')) }
    tempDirs.push(dirs.sink, dirs.sender)
    await streamLine(cipher, libp2p(cipher, 'tcp'), sendVia(cipher), mib, 1, dirs)
    profiled.push({ name: cipher === 'node' ? nodeCipher : '@noble/ciphers', sender: layerShares(profileIn(dirs.sender)), sink: layerShares(profileIn(dirs.sink)) })
  }
  const pct = (x: number) => `${Math.round(x * 100)} %`
  const ciphers = cipherOnly()

  return [
    machineLine(),
    '',
    table(
      ['line', 'MiB/s (median)', 'runs', 'vs raw TCP', 'CPU ms per MiB: sender / sink'],
      lines.map((l) => [l.name, `**${fmt(median(l.rates))}**`, `${l.rates.map(fmt).join(', ')} (${l.mib} MiB each)`, `${((median(l.rates) / raw) * 100).toFixed(0)} %`, `${l.senderCpu.toFixed(1)} / ${l.sinkCpu.toFixed(1)}`]),
      'lrrrr',
    ),
    '',
    `Goal (the encrypted stream ≥ ${GOAL_MIBS} MiB/s under Bun): **${ours >= GOAL_MIBS ? 'met' : 'missed'}** — ${fmt(ours)} MiB/s over TCP with the node's cipher (${nodeCipher}).`,
    '',
    'The cipher alone (ChaCha20-Poly1305 sealing 64 KiB frames, one core):',
    '',
    table(['implementation', 'MiB/s'], ciphers.map((c) => [c.name, fmt(c.mibs)]), 'lr'),
    '',
    'Where the CPU goes (one profiled TCP run per cipher, `bun --cpu-prof` on both ends; share of busy samples, each sample counted for the innermost frame of a known layer):',
    '',
    table(
      ['cipher', 'end', ...LAYERS],
      profiled.flatMap((p) => [
        [p.name, 'sender', ...LAYERS.map((l) => pct(p.sender[l]))],
        [p.name, 'sink', ...LAYERS.map((l) => pct(p.sink[l]))],
      ]),
      'll' + 'r'.repeat(LAYERS.length),
    ),
    '',
    crossCheck(ciphers, lines[1], nodeCipher),
    '',
    'Method:',
    '* Two processes per line (`bench/net-peer.ts`): a sink that counts bytes and answers the count when the sender',
    '  closes, and a sender writing 64 KiB chunks with back-pressure (`send` / `onDrain`). Each sender warms up with',
    `  16 MiB, then sends ${RUNS} run(s) on fresh streams of one connection; a run's clock stops when the sink's count arrives.`,
    '* libp2p lines: `@libp2p/tcp` or `@libp2p/websockets`, `@libp2p/noise` with the crypto named, `@libp2p/yamux`, defaults',
    '  otherwise. `node` is what runtime/net/crypto.ts picks: OpenSSL 3\'s EVP ChaCha20-Poly1305 through `bun:ffi`',
    '  (self-checked against @noble/ciphers at load), falling back to @noble/ciphers when libcrypto.so.3 is absent.',
    '* Raw TCP (the anchor): the same sink and sender over `Bun.listen` / `Bun.connect`, no framing.',
    '* CPU ms per MiB: user + system time of each process over the runs (sender: `process.cpuUsage`, sink: /proc/PID/stat).',
  ].join('\n')
}

async function dht(): Promise<string> {
  const r = await measureDhtLookups(DHT_NODES, KEYS)
  const ms = (xs: number[], p: number) => (xs.length ? `${percentile(xs, p).toFixed(1)} ms` : 'n/a')
  return [
    machineLine(),
    '',
    table(
      ['measure', 'p50', 'p95', 'samples'],
      [
        ['`libp2p.contentRouting.findProviders` → the provider', ms(r.lookupMs, 50), ms(r.lookupMs, 95), `${r.lookupMs.length} (${r.failures} not found)`],
        ['DHT walk → first answer from another node naming it', ms(r.networkMs, 50), ms(r.networkMs, 95), String(r.networkMs.length)],
        ['`contentRouting.provide` (walk + store on the k closest)', ms(r.provideMs, 50), ms(r.provideMs, 95), String(r.provideMs.length)],
      ],
      'lrrr',
    ),
    '',
    `The finder already held the record in ${r.localHits} of ${r.keys} lookups (provide() stores it on the k = 20 closest nodes it finds).`,
    'Routing tables when measuring: ' + `${Math.min(...r.tableSizes)}–${Math.max(...r.tableSizes)} peers; setup ${(r.setupMs / 1000).toFixed(1)} s.`,
    '',
    'Method:',
    `* ${r.nodes} full nodes booted in this one process (test/helpers/network.ts): p2p on 127.0.0.1, DHT server mode, default`,
    '  relay config; each dials node 0 (a star, as through one bootstrap node) and one random earlier node.',
    '* Measuring starts once every routing table holds ≥ a quarter of the network and every node holds a relay',
    '  reservation (until then circuit relay discovery random-walks the DHT and loads the CPU).',
    `* ${r.keys} keys (CIDv1 raw, SHA-256 of a counter), each provided by a random node and looked up by a random other node,`,
    '  one after another; times are from the call to the first result naming the provider (20 s deadline).',
    '* All nodes share this process\'s event loop: the latencies include every node\'s processing.',
  ].join('\n')
}

/**
 * Hook for the block protocol: `/leither/block/1.0.0` throughput between two nodes, written as its
 * own section ("Block protocol throughput (/leither/block)"). Returns the section's markdown, or
 * undefined while it is not measured yet — then no section is written.
 */
export async function measureBlockProtocol(): Promise<string | undefined> {
  return undefined
}

if (import.meta.main) {
  const started = performance.now()
  writeSection('Encrypted stream throughput (libp2p under Bun)', await streams(), { quick: QUICK })
  if (!has('skip-dht')) writeSection(`DHT provider lookups (${DHT_NODES} nodes)`, await dht(), { quick: QUICK })
  const block = await measureBlockProtocol()
  if (block) writeSection('Block protocol throughput (/leither/block)', block, { quick: QUICK })
  console.error(`bench/net.ts done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  process.exit(0)
}
