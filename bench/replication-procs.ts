// Propagation of a new version across N nodes that are separate `leither run` processes on
// 127.0.0.1 (bench/replication.ts runs it next to the in-process variant). Times come from the
// nodes' own log lines (ISO timestamps, one clock): from just before the author's MMBackup call to
// each provider's "synced" line for that version.
import { connect, type NodeSession } from '../runtime/cli/session.ts'
import { callRemote } from '../runtime/rpc/client.ts'
import type { Parsed } from '../runtime/cli/args.ts'
import { startNode, tempDir, type RunningNode } from '../test/helpers/node.ts'
import { percentile } from './net-dht.ts'
import { readFileSync } from 'node:fs'

export interface ProcPropagation {
  n: number
  rounds: number
  misses: number
  /** Providers whose log shows the announcement arriving by gossip, per version. */
  gossiped: number[]
  p50: number
  p95: number
  max: number
  /** From MMBackup to the announcement's arrival (the providers that heard it by gossip). */
  heardP50: number
  heardP95: number
  /** CPU of each node process (ms of CPU per s of wall time) while idle before timing: median, max, and all nodes together. */
  idleCpu: { median: number; max: number; sum: number }
  /** The same during the timed versions (from the first MMBackup to the last version everywhere). */
  busyCpu: { median: number; max: number; sum: number }
  /** The author's connection-monitor ping round trip to each connected peer (ms), min / median / max: the anchor. */
  pingMs: { min: number; median: number; max: number; n: number }
}

const WITHIN_MS = 45_000

/** CPU time (user + system) a process has used, in ms, from /proc/PID/stat (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return NaN
  }
}

/** The main thread's time on a CPU and waiting for one (run queue), in ms, from /proc/PID/task/PID/schedstat. */
export function schedMs(pid: number): { run: number; wait: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number)
    return { run: run / 1e6, wait: wait / 1e6 }
  } catch {
    return { run: NaN, wait: NaN }
  }
}

/** Starts a CPU measurement of the nodes; the returned function gives ms of CPU per s of wall time. */
export function cpuMeter(nodes: Node[]): () => { median: number; max: number; sum: number } {
  const t0 = performance.now()
  const c0 = nodes.map((k) => cpuMs(k.proc.proc.pid))
  return () => {
    const wall = (performance.now() - t0) / 1000
    const per = nodes.map((k, i) => (cpuMs(k.proc.proc.pid) - c0[i]) / wall).filter(Number.isFinite)
    return { median: percentile(per, 50), max: Math.max(...per), sum: per.reduce((a, b) => a + b, 0) }
  }
}

export interface Node {
  proc: RunningNode
  dir: string & Disposable
  s: NodeSession
}

/** Log lines of `node` (its stderr) as [time ms, line] that match `re`. */
export function linesOf(node: Node, re: RegExp): { at: number; line: string }[] {
  const out = []
  for (const line of node.proc.stderr().split('\n')) {
    if (!re.test(line)) continue
    const at = Date.parse(line.slice(0, 24))
    if (Number.isFinite(at)) out.push({ at, line })
  }
  return out
}

/** Starts `leither run` on a data dir (a new one unless given), logged in as its owner. */
export async function bootNode(bootstrap: string[], env: Record<string, string>, opts: { dir?: string & Disposable; p2pPort?: number; cmd?: string[]; args?: string[] } = {}): Promise<Node> {
  const dir = opts.dir ?? tempDir('leither-bench-')
  const args = ['--data', dir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info', ...(opts.p2pPort ? ['--p2p-port', String(opts.p2pPort)] : []), ...bootstrap.flatMap((a) => ['--bootstrap', a]), ...(opts.args ?? [])]
  const proc = await startNode(args, { env, timeoutMs: 60_000, cmd: opts.cmd })
  const s = connect({ flags: { data: dir, node: proc.url }, args: [] } as unknown as Parsed)
  await s.login()
  return { proc, dir, s }
}

/** The node's TCP multiaddr (with /p2p/). */
export const tcpAddrOf = async (k: Node) => ((await k.s.call('GetVar', [k.s.sid, 'nodeaddrs'])) as string[]).find((a) => !a.includes('/ws') && !a.includes('p2p-circuit'))!

export async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await Bun.sleep(200)) if (await check()) return
  throw new Error(`timed out waiting for ${what}`)
}

/** N nodes: node i bootstraps to node i-1 and, every third node, to node 0 too. */
export async function bootChain(n: number, env: Record<string, string> = {}): Promise<Node[]> {
  const nodes: Node[] = []
  try {
    for (let i = 0; i < n; i++) {
      const boots = i === 0 ? [] : [await tcpAddrOf(nodes[i - 1]), ...(i % 3 === 0 && i > 1 ? [await tcpAddrOf(nodes[0])] : [])]
      nodes.push(await bootNode(boots, env))
    }
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
  return nodes
}

export async function stopAll(nodes: Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async (k) => {
      await k.s.close().catch(() => {})
      await k.proc.stop()
      k.dir[Symbol.dispose]()
    }),
  )
}

/** Node i bootstraps to node i-1 and, every third node, to node 0 too (as the in-process variant links). */
export async function propagationProcesses(n: number, rounds: number, env: Record<string, string> = {}): Promise<ProcPropagation> {
  const nodes = await bootChain(n, env)
  try {
    const [author, ...others] = nodes
    await Promise.all(others.map((k) => until('a peer', async () => ((await k.s.call('SwarmPeers', [k.s.sid])) as unknown[]).length > 0)))
    const sa = author.s.sid
    const mid = (await author.s.call('MMCreate', [sa, 'bench', 'feed', '', 2, 1])) as string
    const h = await author.s.call('MMOpen', [sa, mid, 'cur'])
    await author.s.call('Set', [h, 'n', 0])
    await author.s.call('MMBackup', [sa, mid, ''])
    await author.s.call('MiMeiPublish', [sa, mid])
    // MiMeiProvide answers after the first sync, which 20 processes on a loaded machine may delay.
    await Promise.all(others.map((k) => callRemote(k.proc.url, 'MiMeiProvide', [k.s.sid, mid], 180_000)))
    // As in-process: let the gossip mesh settle (grafting happens on heartbeats) before timing.
    await Bun.sleep(3000)
    const idle = cpuMeter(nodes)
    await Bun.sleep(Number(process.env.BENCH_IDLE_MS ?? 10_000))
    const idleCpu = idle()
    // One version before timing, not counted: the nodes' start-up work (JIT, DHT walks, their
    // first provider announcements) still competes for the CPU in the first seconds.
    await author.s.call('Set', [h, 'n', 1])
    await author.s.call('MMBackup', [sa, mid, ''])
    const warm = new RegExp(`\\[replication\\] synced( by delta)? mid=${mid} ver=2\\b`)
    await until('the warm-up version everywhere', () => others.every((k) => linesOf(k, warm).length > 0), WITHIN_MS).catch(() => {})
    const latencies: number[] = []
    const gossiped: number[] = []
    const heardMs: number[] = []
    let misses = 0
    const busy = cpuMeter(nodes)
    for (let round = 3; round < rounds + 3; round++) {
      await author.s.call('Set', [h, 'n', round])
      const synced = new RegExp(`\\[replication\\] synced( by delta)? mid=${mid} ver=${round}\\b`)
      const heard = new RegExp(`\\[replication\\] new version announced mid=${mid} ver=${round}\\b`)
      const s0 = schedMs(author.proc.proc.pid)
      const t0 = Date.now()
      await author.s.call('MMBackup', [sa, mid, ''])
      const backedUp = Date.now() - t0
      const s1 = schedMs(author.proc.proc.pid)
      const all = () => others.every((k) => linesOf(k, synced).length > 0)
      for (const deadline = t0 + WITHIN_MS; Date.now() < deadline && !all(); ) await Bun.sleep(50)
      for (const k of others) {
        const at = linesOf(k, synced)[0]?.at
        if (at === undefined) misses++
        else latencies.push(at - t0)
      }
      const heardAt = others.map((k) => linesOf(k, heard)[0]?.at).filter((at) => at !== undefined)
      if (process.env.BENCH_VERBOSE) {
        const row = (re: RegExp) => others.map((k) => (linesOf(k, re)[0]?.at ?? NaN) - t0).join(' ')
        process.stderr.write(author.proc.stderr().split('\n').filter((l) => Date.parse(l.slice(0, 24)) >= t0 - 2000 && Date.parse(l.slice(0, 24)) <= t0 + backedUp + 100).map((l) => `author ${Date.parse(l.slice(0, 24)) - t0} ${l.slice(24, 200)}`).join('\n') + '\n')
        process.stderr.write(`round ${round} MMBackup answered after ${backedUp} ms; author's main thread meanwhile ran ${Math.round(s1.run - s0.run)} ms, waited for a CPU ${Math.round(s1.wait - s0.wait)} ms\n`)
        process.stderr.write(`round ${round} heard: ${row(heard)}\nround ${round} synced: ${row(synced)}\n`)
      }
      gossiped.push(heardAt.length)
      heardMs.push(...heardAt.map((at) => at - t0))
    }
    const busyCpu = busy()
    const rtts = ((await author.s.call('SwarmPeers', [sa])) as { latencyMs: number | null }[]).map((p) => p.latencyMs).filter((x): x is number => x !== null)
    const pingMs = { min: Math.min(...rtts), median: percentile(rtts, 50), max: Math.max(...rtts), n: rtts.length }
    return { n, rounds, misses, gossiped, idleCpu, busyCpu, pingMs, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.length ? Math.max(...latencies) : NaN, heardP50: percentile(heardMs, 50), heardP95: percentile(heardMs, 95) }
  } finally {
    await stopAll(nodes)
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 20)
  console.log(await propagationProcesses(n, Number(process.argv[3] ?? 3)))
}
