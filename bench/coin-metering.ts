// The cost of traffic metering on block throughput: MiMeiSyncs of a large file between two nodes,
// alternately with their metering on and off, in the same run.
// `bun bench/coin-metering.ts [--quick] [--mb=N] [--rounds=N]`
import { loadavg } from 'node:os'
import { bootNetwork, type TestNetwork } from '../test/helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../test/helpers/kernel.ts'
import type { SyncResult } from '../runtime/net/sync.ts'
import { trafficOf } from '../runtime/ledger/traffic.ts'
import { meterReceived, meterServed, trafficGate } from '../runtime/ledger/traffic-hook.ts'
import { CHUNK_SIZE } from '../runtime/mimei/blocks.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const MB = Number(arg('mb') ?? (quick ? 16 : 64))
const ROUNDS = Number(arg('rounds') ?? (quick ? 3 : 9))
const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/** A new file MiMei of `data` on `author`, published; returns its id. */
async function publish(author: TestKernel, data: Uint8Array, name: string): Promise<string> {
  const sa = await owner(author)
  const mid = (await callLocal(author, 'MMCreate', sa, 'bench', name, '', 1, 1)) as string
  const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
  const fsid = await callLocal(author, 'MFOpenByPath', sa, h, 'blob.bin', 0x42)
  for (let off = 0; off < data.length; off += 1 << 20) await callLocal(author, 'MFSetData', fsid, data.subarray(off, off + (1 << 20)), off)
  await callLocal(author, 'MFClose', fsid)
  await callLocal(author, 'MMBackup', sa, mid, '')
  await callLocal(author, 'MiMeiPublish', sa, mid)
  return mid
}

/** MB/s of one sync of a new copy of `data` from the first node to the second, and the CPU time this process spent per MB (both nodes run in it). */
async function syncOnce(net: TestNetwork, data: Uint8Array, name: string): Promise<{ rate: number; cpuMsPerMB: number }> {
  const [author, reader] = net.nodes as [TestKernel, TestKernel]
  const mid = await publish(author, data, name)
  const sr = await owner(reader)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = (await callLocal(reader, 'MiMeiSync', sr, mid)) as SyncResult
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { rate: r.bytes / 1e6 / (ms / 1000), cpuMsPerMB: (cpu.user + cpu.system) / 1000 / (r.bytes / 1e6) }
}

/** µs per block the hooks take on `k` (what /leither/block calls for each block it serves and receives), over `n` calls. */
async function hookUs(k: TestKernel, peerOf: TestKernel, n: number): Promise<number> {
  const lib = k.net!.libp2p
  const peer = peerOf.net!.libp2p.peerId
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    await trafficGate(lib, peer)
    meterServed(lib, peer, CHUNK_SIZE)
    meterReceived(lib, peer, CHUNK_SIZE)
  }
  return ((performance.now() - t0) * 1000) / n
}

const loadStart = loadavg()[0]!
// Metering on: counted, gated and written behind as in a deployment; the threshold is out of reach so
// no settlement (a ledger transfer) falls into the timed sync.
const net = await bootNetwork(2, { config: { trafficMeter: true, trafficPayThreshold: 1e12 } })
const [a, b] = net.nodes as [TestKernel, TestKernel]
/** Off: the protocols find no hook, as on a node with trafficMeter false; on: the nodes' meters again. */
const metering = (on: boolean) => net.nodes.forEach((k) => trafficOf(k.ledger)!.metering(on))
const rates = { on: [] as number[], off: [] as number[] }
const cpus = { on: [] as number[], off: [] as number[] }
const hooks = { on: [] as number[], off: [] as number[] }
try {
  const data = new Uint8Array(MB * 1e6)
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so a change of load during the run falls on both.
    const order = round % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)
    for (const which of order) {
      // Different bytes each time, so the reader has none of the blocks.
      for (let at = 0; at < data.length; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536))
      metering(which === 'on')
      const { rate, cpuMsPerMB } = await syncOnce(net, data, `r${round}${which}`)
      rates[which].push(rate)
      cpus[which].push(cpuMsPerMB)
      process.stderr.write(`round ${round + 1}/${ROUNDS} metering ${which}: ${rate.toFixed(1)} MB/s, ${cpuMsPerMB.toFixed(2)} CPU ms per MB\n`)
    }
  }
  metering(true)
  const metered = trafficOf(a.ledger)!.row(b.identity.nodeId)
  process.stderr.write(`metered on the author: ${(metered.served / 1e6).toFixed(1)} MB served, debt ${metered.debt} 毫\n`)
  // The hooks alone, per block, with metering on and off (off: a lookup that finds no meter).
  for (let i = 0; i < 3; i++) {
    metering(true)
    hooks.on.push(await hookUs(a, b, 200_000))
    metering(false)
    hooks.off.push(await hookUs(a, b, 200_000))
  }
} finally {
  await net.stop()
}
const loadEnd = loadavg()[0]!

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
const onMed = median(rates.on)
const offMed = median(rates.off)
const cost = ((offMed - onMed) / offMed) * 100
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ')
const fmt2 = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ')
writeSection(
  'Traffic metering cost (issue 11)',
  [
    `${machineLine()} 1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end. \`bun bench/coin-metering.ts --mb=${MB} --rounds=${ROUNDS}\`.`,
    '',
    `A ${MB} MB file MiMei of random bytes synced by a second node (MiMeiSync: /leither/block, every block hash-checked and stored), a new file each time, between two nodes in this process, alternately with their metering on (every block served and received is counted on the peer's meter, every block served passes the cut-off gate, meters written to SQLite each second; the payment threshold out of reach, so no settlement falls into the timing) and off (the protocols find no hook, as with trafficMeter false), ${ROUNDS} syncs each, which goes first alternating by round. Goal: metering costs under 5 %.`,
    '',
    table(
      ['metering', 'syncs', 'MB/s, each sync', 'median MB/s', 'CPU ms per MB, each sync', 'median CPU ms per MB'],
      [
        ['off', rates.off.length, fmt(rates.off), offMed.toFixed(1), fmt2(cpus.off), median(cpus.off).toFixed(2)],
        ['on', rates.on.length, fmt(rates.on), onMed.toFixed(1), fmt2(cpus.on), median(cpus.on).toFixed(2)],
      ],
      '  rr r',
    ),
    '',
    `Cost of metering in throughput, (median off − median on) / median off: ${cost.toFixed(1)} %; the same from the syncs paired by round, 1 − median(on / off): ${((1 - median(rates.on.map((x, i) => x / rates.off[i]!))) * 100).toFixed(1)} %; ` +
      `in CPU time per MB (both nodes are this process), (median on − median off) / median off: ${(((median(cpus.on) - median(cpus.off)) / median(cpus.off)) * 100).toFixed(1)} %, paired by round, median(on / off) − 1: ${((median(cpus.on.map((x, i) => x / cpus.off[i]!)) - 1) * 100).toFixed(1)} %.`,
    '',
    `The hooks alone, per ${CHUNK_SIZE / 1024} KiB block (gate + served + received, 200,000 calls, 3 runs, median): ${median(hooks.on).toFixed(2)} µs with metering on, ${median(hooks.off).toFixed(2)} µs off; ` +
      `one block at the median throughput off takes ${((CHUNK_SIZE / (offMed * 1e6)) * 1e6).toFixed(0)} µs, so the hooks are ${(((median(hooks.on) - median(hooks.off)) / ((CHUNK_SIZE / (offMed * 1e6)) * 1e6)) * 100).toFixed(3)} % of it.`,
  ].join('\n'),
  { quick },
)
