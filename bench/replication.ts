// MiMei replication numbers: how fast a new version reaches every provider (p50/p95; 10 and 20
// nodes in this process, 20 as separate processes), and block transfer by /leither/block next to a
// bare libp2p stream between the same two nodes in the same run. `bun bench/replication.ts [--quick]`
import { loadavg } from 'node:os'
import { bootNetwork, link, peerIdOf, tcpAddr, waitForRoutingTable } from '../test/helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../test/helpers/kernel.ts'
import { publishRandomFile } from './file-mimei.ts'
import type { SyncResult } from '../runtime/net/sync.ts'
import { selectNoiseCrypto } from '../runtime/net/crypto.ts'
import { SINK_PROTOCOL, sendLibp2p } from './net-stack.ts'
import { machineLine, table, writeSection } from './results.ts'
import { percentile } from './net-dht.ts'
import { propagationProcesses } from './replication-procs.ts'

const quick = process.argv.includes('--quick')
const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/** When `k` installs version `ver` of `mid`; NaN if it has not within 45 s (counted as a miss). */
function syncedAt(k: TestKernel, mid: string, ver: number): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => resolve(NaN), 45_000).unref?.()
    const on = (e: Event) => {
      const r = (e as CustomEvent<SyncResult>).detail
      if (r.mid === mid && r.ver >= ver) {
        k.replication!.events.removeEventListener('synced', on)
        resolve(performance.now())
      }
    }
    k.replication!.events.addEventListener('synced', on)
  })
}

const median = (xs: number[]) => percentile(xs, 50)

/** Chain plus shortcuts: node i links to i-1 and, every third node, to node 0 (a few hops deep). */
async function propagation(n: number, rounds: number) {
  const net = await bootNetwork(n, { topology: 'chain' })
  try {
    const [author, ...others] = net.nodes
    for (let i = 3; i < n; i += 3) await link(net.nodes[i], author)
    for (const k of others) await waitForRoutingTable(k, peerIdOf(net.nodes[others.indexOf(k)]))
    const sa = await owner(author)
    const mid = (await callLocal(author, 'MMCreate', sa, 'bench', 'feed', '', 2, 1)) as string
    const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
    await callLocal(author, 'Set', h, 'n', 0)
    await callLocal(author, 'MMBackup', sa, mid, '')
    await callLocal(author, 'MiMeiPublish', sa, mid)
    const sids = await Promise.all(others.map(owner))
    await Promise.all(others.map((k, i) => callLocal(k, 'MiMeiProvide', sids[i], mid)))
    // Let the gossip mesh settle (grafting happens on heartbeats) before timing.
    await Bun.sleep(3000)
    // What each node's gossipsub knows of the topic when timing starts.
    const topic = `leither/mimei/${mid}`
    const pubsubOf = (k: TestKernel) => k.net!.libp2p.services.pubsub as unknown as { getSubscribers(t: string): unknown[]; getMeshPeers(t: string): string[] }
    const mesh = {
      authorSubscribers: pubsubOf(author).getSubscribers(topic).length,
      authorMesh: pubsubOf(author).getMeshPeers(topic).length,
      providerSubscribers: others.map((k) => pubsubOf(k).getSubscribers(topic).length),
      providerMesh: others.map((k) => pubsubOf(k).getMeshPeers(topic).length),
    }
    // Which providers receive each version's announcement by gossip (the record's topic message).
    let t0 = 0
    const heardMs: number[] = []
    const heard = new Set<number>()
    others.forEach((k, i) =>
      k.net!.libp2p.services.pubsub.addEventListener('message', (e) => {
        if (!t0 || (e as CustomEvent<{ topic: string }>).detail.topic !== topic || heard.has(i)) return
        heard.add(i)
        heardMs.push(performance.now() - t0)
      }),
    )
    // One version before timing, not counted: the nodes' start-up work still competes for the CPU.
    await callLocal(author, 'Set', h, 'n', 1)
    const warm = others.map((k) => syncedAt(k, mid, 2))
    await callLocal(author, 'MMBackup', sa, mid, '')
    await Promise.all(warm)
    const latencies: number[] = []
    const gossiped: number[] = []
    let misses = 0
    for (let round = 3; round < rounds + 3; round++) {
      await callLocal(author, 'Set', h, 'n', round)
      heard.clear()
      const arrivals = others.map((k) => syncedAt(k, mid, round))
      t0 = performance.now()
      await callLocal(author, 'MMBackup', sa, mid, '')
      for (const at of await Promise.all(arrivals)) {
        if (Number.isNaN(at)) misses++
        else latencies.push(at - t0)
      }
      if (process.env.BENCH_VERBOSE) process.stderr.write(`round ${round}: ${latencies.slice(-(n - 1)).map((x) => x.toFixed(0)).join(' ')}\n`)
      gossiped.push(heard.size)
    }
    return { n, rounds, misses, gossiped, mesh, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.length ? Math.max(...latencies) : NaN, heardP50: percentile(heardMs, 50), heardP95: percentile(heardMs, 95) }
  } finally {
    await net.stop()
  }
}

/** Two nodes: a file MiMei synced by /leither/block, then the same bytes on a bare stream. */
async function blockThroughput(bytes: number) {
  const net = await bootNetwork(2, { topology: 'chain' })
  try {
    const [author, reader] = net.nodes
    const sa = await owner(author)
    const { mid } = await publishRandomFile(author, sa, bytes)
    const sr = await owner(reader)
    const t0 = performance.now()
    const r = (await callLocal(reader, 'MiMeiSync', sr, mid)) as SyncResult
    const syncMs = performance.now() - t0

    // The bare stream between the same two nodes: a sink on the author, bytes from the reader.
    await author.net!.libp2p.handle(SINK_PROTOCOL, (stream) => {
      let got = 0
      stream.addEventListener('message', (e) => (got += e.data.byteLength))
      stream.addEventListener('remoteCloseWrite', () => {
        const count = new Uint8Array(8)
        new DataView(count.buffer).setBigUint64(0, BigInt(got))
        stream.send(count)
        void stream.close().catch(() => {})
      })
    })
    // The same amount, rounded to the sender's 64 KiB chunks.
    const bare = await sendLibp2p(reader.net!.libp2p, tcpAddr(author), Math.ceil(r.bytes / 65536) * 65536)
    return { bytes: r.bytes, syncMBs: r.bytes / 1e6 / (syncMs / 1000), bareMBs: bare.bytes / 1e6 / (bare.ms / 1000) }
  } finally {
    await net.stop()
  }
}

const loadStart = loadavg()[0]
/** --nodes=20 --procs=20 --rounds=10 --no-blocks pick parts (a partial run prints and writes nothing to RESULTS). */
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const list = (v: string | undefined, dflt: number[]) => (v === undefined ? dflt : v ? v.split(',').map(Number) : [])
const partial = ['nodes', 'procs', 'rounds'].some((n) => arg(n) !== undefined) || process.argv.includes('--no-blocks')
const sizes = list(arg('nodes'), quick ? [10] : [10, 20])
const rounds = Number(arg('rounds') ?? (quick ? 3 : 10))
const prop = []
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a')
for (const n of sizes) {
  process.stderr.write(`propagation, ${n} nodes in this process … `)
  const r = await propagation(n, rounds)
  process.stderr.write(`p50 ${ms(r.p50)}, p95 ${ms(r.p95)}, ${r.misses} missed\n`)
  prop.push(r)
}
const procSizes = list(arg('procs'), quick ? [5] : [20])
const procs = []
for (const n of procSizes) {
  process.stderr.write(`propagation, ${n} node processes … `)
  const r = await propagationProcesses(n, rounds)
  process.stderr.write(`p50 ${ms(r.p50)}, p95 ${ms(r.p95)}, ${r.misses} missed\n`)
  procs.push(r)
}
const loadEnd = loadavg()[0]
if (partial) {
  console.log(JSON.stringify({ loadStart, loadEnd, prop: prop.map(({ mesh, ...r }) => r), procs }, null, 1))
  process.exit(0)
}
const total = (quick ? 32 : 128) * 1024 * 1024
process.stderr.write(`block transfer, ${total / 1048576} MiB … `)
const blocks = await blockThroughput(total)
process.stderr.write(`${blocks.syncMBs.toFixed(1)} MB/s (bare stream ${blocks.bareMBs.toFixed(1)} MB/s)\n`)

const cipher = selectNoiseCrypto().cipher
const spread = (xs: number[]) => `${Math.min(...xs)} / ${median(xs)} / ${Math.max(...xs)}`
writeSection(
  'MiMei replication',
  [
    `${machineLine()} Noise cipher: ${cipher}. All nodes on 127.0.0.1.`,
    `The machine is shared: 1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} after the propagation runs.`,
    '',
    '### Propagation of a new version to every provider',
    '',
    "Each node links to the previous one, every third also to the author (up to ~3 hops). Every other node provides the MiMei; after one version not counted (start-up work of the nodes still competes for the CPU), the author backs up the number of versions in the table one after another; latency = from MMBackup to the provider having installed the version (gossip announcement + delta or block sync + install); \"heard\" = from MMBackup to the announcement's arrival by gossip. Replicas also poll up to 3 peers for a newer record every 30 s. Goal: p95 < 1 s, none missed.",
    '',
    "In this process: every node in this one Bun process (one event loop for all). Separate processes: `leither run` from source per node (bench/replication-procs.ts), node i bootstrapping to node i-1 and every third also to the author; the author driven over RPC; times from each node's log lines (same clock).",
    '',
    table(
      ['nodes', 'where', 'versions', 'samples', 'not within 45 s', 'heard p50 / p95', 'p50', 'p95', 'max', 'p95 < 1 s, none missed'],
      [
        ...prop.map((r) => [r.n, 'this process', r.rounds, (r.n - 1) * r.rounds, r.misses, `${ms(r.heardP50)} / ${ms(r.heardP95)}`, ms(r.p50), ms(r.p95), ms(r.max), r.p95 < 1000 && r.misses === 0 ? 'yes' : '**no**']),
        ...procs.map((r) => [r.n, 'separate processes', r.rounds, (r.n - 1) * r.rounds, r.misses, `${ms(r.heardP50)} / ${ms(r.heardP95)}`, ms(r.p50), ms(r.p95), ms(r.max), r.p95 < 1000 && r.misses === 0 ? 'yes' : '**no**']),
      ],
    ),
    '',
    "The gossip layer when timing starts (3 s after the last MiMeiProvide), from each node's gossipsub, and per version how many",
    "providers received the author's announcement on the MiMei's topic:",
    '',
    table(
      ['nodes', 'where', 'author: subscribers known / in mesh', 'providers: subscribers known, min / median / max', 'providers: mesh peers, min / median / max', 'providers that received the announcement, per version'],
      [
        ...prop.map((r) => [r.n, 'this process', `${r.mesh.authorSubscribers} / ${r.mesh.authorMesh}`, spread(r.mesh.providerSubscribers), spread(r.mesh.providerMesh), `${r.gossiped.join(', ')} of ${r.n - 1}`]),
        ...procs.map((r) => [r.n, 'separate processes', 'n/a', 'n/a', 'n/a', `${r.gossiped.join(', ')} of ${r.n - 1} (their logs)`]),
      ],
    ),
    '',
    'The node processes while this ran: CPU per node in ms per second of wall time (/proc/PID/stat) over 10 s of quiet after the',
    "3 s above and during the timed versions, and the anchor: the author's connection-monitor ping round trip to its peers.",
    '',
    table(
      ['nodes', 'idle: per node, median / max', 'idle: all nodes', 'during the versions: per node, median / max', 'during: all nodes', 'ping round trip from the author, min / median / max'],
      procs.map((r) => [r.n, `${r.idleCpu.median.toFixed(0)} / ${r.idleCpu.max.toFixed(0)}`, r.idleCpu.sum.toFixed(0), `${r.busyCpu.median.toFixed(0)} / ${r.busyCpu.max.toFixed(0)}`, r.busyCpu.sum.toFixed(0), `${r.pingMs.min} / ${r.pingMs.median} / ${r.pingMs.max} ms (${r.pingMs.n} peers)`]),
    ),
    '',
    '### Block transfer: /leither/block versus a bare libp2p stream',
    '',
    `A ${(blocks.bytes / 1e6).toFixed(0)} MB file MiMei (random bytes, 256 KiB blocks) synced by a second node (MiMeiSync: DAG walk, 64-block requests, 4 in flight, every block hash-checked and stored), then the same number of bytes sent on one bare libp2p stream (TCP + Noise + Yamux) between the same two nodes. Goal: our protocol loses at most 20 %.`,
    '',
    table(
      ['path', 'MB/s', 'vs bare stream'],
      [
        ['bare libp2p stream', blocks.bareMBs.toFixed(1), '100 %'],
        ['MiMeiSync over /leither/block', blocks.syncMBs.toFixed(1), `${((blocks.syncMBs / blocks.bareMBs) * 100).toFixed(0)} %${blocks.syncMBs >= 0.8 * blocks.bareMBs ? '' : ' (**goal missed**)'}`],
      ],
    ),
    '',
  ].join('\n'),
  { quick },
)
process.exit(0)
