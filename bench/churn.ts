// Churn: N `leither run` processes on 127.0.0.1 (node i bootstraps to node i-1 and to the author);
// the author backs up a new version of a database MiMei every second while, each round, 30 % of
// the providers are killed with SIGKILL, stay down a few seconds and start again on the same data
// dir and port. Measured per return: time from the ready line to having the newest version the
// author had at that moment; after it: every version the node held before the kill is still
// listed with the same CID, and its last one sums (MMSum) as the author's.
// `bun bench/churn.ts [--nodes=20] [--rounds=3] [--down=5000]` → bench/RESULTS.md "Churn".
import { loadavg } from 'node:os'
import { callRemote } from '../runtime/rpc/client.ts'
import { bootChain, bootNode, cpuMs, schedMs, stopAll, tcpAddrOf, until, type Node } from './replication-procs.ts'
import { percentile } from './net-dht.ts'
import { machineLine, table, writeSection } from './results.ts'

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt)
const N = arg('nodes', 20)
const ROUNDS = arg('rounds', 3)
const DOWN_MS = arg('down', 5000)
const PUBLISH_MS = 1000
const KILL = Math.round(N * 0.3)
const GOAL_MS = 10_000
const GIVE_UP_MS = 60_000

type Versions = { last: number | null; versions: { ver: number; cid: string }[] }
/** The node's versions of the MiMei (none while it does not hold it yet). */
const versionsOf = async (k: Node, mid: string, tries = 2): Promise<Versions> => {
  try {
    return (await k.s.call('GetVar', [k.s.sid, 'mmversions', mid])) as Versions
  } catch (err) {
    if (/NotFound/.test(String(err))) return { last: null, versions: [] }
    // A kept-alive HTTP connection reset under load: asked once more.
    if (tries > 1 && /ECONNRESET|Transport/.test(String(err))) return Bun.sleep(500).then(() => versionsOf(k, mid, tries - 1))
    throw err
  }
}

const loadStart = loadavg()[0]
const t0 = Date.now()
const nodes = await bootChain(N)
const bootMs = Date.now() - t0
const author = nodes[0]
let published = 0
let stopPublishing = false
const catchUps: number[] = []
const lost: string[] = []
let missed = 0
let kills = 0
const publishErrors: string[] = []
let restartRetries = 0
try {
  const ports = await Promise.all(nodes.map(async (k) => Number((await tcpAddrOf(k)).split('/tcp/')[1].split('/')[0])))
  const authorAddr = await tcpAddrOf(author)
  const sa = author.s.sid
  const mid = (await author.s.call('MMCreate', [sa, 'bench', 'churn', '', 2, 1])) as string
  const h = await author.s.call('MMOpen', [sa, mid, 'cur'])
  await author.s.call('Set', [h, 'n', 0])
  await author.s.call('MMBackup', [sa, mid, ''])
  published = 1
  await author.s.call('MiMeiPublish', [sa, mid])
  await Promise.all(nodes.slice(1).map((k) => callRemote(k.proc.url, 'MiMeiProvide', [k.s.sid, mid], 180_000)))

  // BENCH_VERBOSE: each second, the author's main thread's time on a CPU and waiting for one, and the versions published.
  if (process.env.BENCH_VERBOSE) {
    let last = schedMs(author.proc.proc.pid)
    let cpus = nodes.map((k) => cpuMs(k.proc.proc.pid))
    const timer = setInterval(() => {
      const now = schedMs(author.proc.proc.pid)
      const cpuNow = nodes.map((k) => cpuMs(k.proc.proc.pid))
      const per = cpuNow.map((c, i) => c - cpus[i])
      const top = per.map((c, i) => [c, i]).filter(([c]) => Number.isFinite(c)).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([c, i]) => `${i}:${c}`)
      const all = per.filter(Number.isFinite).reduce((a, b) => a + b, 0)
      process.stderr.write(`author ${new Date().toISOString()} ran ${Math.round(now.run - last.run)} ms, waited ${Math.round(now.wait - last.wait)} ms, published ${published}; nodes' CPU ${all} ms (most: ${top.join(' ')})\n`)
      last = now
      cpus = cpuNow
    }, 1000)
    timer.unref()
  }
  // Versions keep coming, one a second, for the whole run.
  const publisher = (async () => {
    for (let i = 1; !stopPublishing; i++) {
      try {
        await author.s.call('Hset', [h, 'posts', `p${i}`, 'x'.repeat(200)])
        await author.s.call('Set', [h, 'n', i])
        published = (await author.s.call('MMBackup', [sa, mid, ''])) as number
      } catch (err) {
        // The author's HTTP connection may be reset under load; the next second tries again.
        publishErrors.push((err as Error).message.slice(0, 120))
      }
      await Bun.sleep(PUBLISH_MS)
    }
  })()

  for (let round = 0; round < ROUNDS; round++) {
    const victims = nodes
      .map((_, i) => i)
      .slice(1)
      .sort(() => Math.random() - 0.5)
      .slice(0, KILL)
    const before = new Map(await Promise.all(victims.map(async (i) => [i, await versionsOf(nodes[i], mid)] as const)))
    for (const i of victims) {
      await nodes[i].s.close().catch(() => {})
      await nodes[i].proc.stop('SIGKILL')
      kills++
    }
    await Bun.sleep(DOWN_MS)
    await Promise.all(
      victims.map(async (i) => {
        const boots = [authorAddr, ...(i > 1 ? [await tcpAddrOf(nodes[i - 1]).catch(() => undefined)] : [])].filter((a): a is string => !!a)
        // Its WebSocket listener takes the next port, which another process may hold meanwhile (an
        // ephemeral port): started again a second later, up to 5 times.
        for (let attempt = 1; ; attempt++) {
          try {
            nodes[i] = await bootNode(boots, {}, { dir: nodes[i].dir, p2pPort: ports[i] })
            break
          } catch (err) {
            if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err
            restartRetries++
            await Bun.sleep(1000)
          }
        }
        const back = Date.now()
        const want = published
        try {
          await until(`node ${i} at version ${want}`, async () => ((await versionsOf(nodes[i], mid)).last ?? 0) >= want, GIVE_UP_MS)
          catchUps.push(Date.now() - back)
          if (process.env.BENCH_VERBOSE) await Bun.write(`/tmp/churn-node-${i}-${Date.now()}-ok-${Date.now() - back}ms.log`, nodes[i].proc.stderr())
        } catch {
          missed++
          if (process.env.BENCH_VERBOSE) await Bun.write(`/tmp/churn-node-${i}-${Date.now()}.log`, nodes[i].proc.stderr())
        }
        const after = await versionsOf(nodes[i], mid).catch((err) => {
          lost.push(`node ${i} unreachable after its return: ${(err as Error).message.slice(0, 120)}`)
          return undefined
        })
        if (!after) return
        for (const v of before.get(i)!.versions) {
          if (!after.versions.some((w) => w.ver === v.ver && w.cid === v.cid)) lost.push(`node ${i} version ${v.ver}`)
        }
        const last = before.get(i)!.last
        if (last !== null) {
          // Asked once more when a kept-alive HTTP connection is reset under load (as versionsOf).
          const sum = (k: Node, sid: string) => k.s.call('MMSum', [sid, mid, last]).catch((err) => (/ECONNRESET|Transport/.test(String(err)) ? Bun.sleep(500).then(() => k.s.call('MMSum', [sid, mid, last])) : Promise.reject(err)))
          const sums = await Promise.all([sum(nodes[i], nodes[i].s.sid), sum(author, sa)]).catch((err) => {
            lost.push(`node ${i}: MMSum of version ${last} failed: ${(err as Error).message.slice(0, 120)}`)
            return undefined
          })
          if (sums && sums[0] !== sums[1]) lost.push(`node ${i} version ${last} sums differently`)
        }
      }),
    )
    process.stderr.write(`round ${round + 1}: killed ${victims.join(', ')}; catch-up so far p50 ${percentile(catchUps, 50).toFixed(0)} ms, max ${Math.max(...catchUps).toFixed(0)} ms, ${missed} missed\n`)
  }
  stopPublishing = true
  await publisher
  const final = published
  const finalAt = Date.now()
  await until('every provider at the final version', async () => (await Promise.all(nodes.slice(1).map((k) => versionsOf(k, mid)))).every((v) => (v.last ?? 0) >= final), GIVE_UP_MS).catch(() => {})
  const settleMs = Date.now() - finalAt
  const behind = (await Promise.all(nodes.slice(1).map((k) => versionsOf(k, mid)))).filter((v) => (v.last ?? 0) < final).length
  const loadEnd = loadavg()[0]

  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a')
  const met = missed === 0 && lost.length === 0 && catchUps.every((x) => x < GOAL_MS)
  writeSection(
    'Churn',
    [
      `${machineLine()} All nodes on 127.0.0.1, each a \`leither run\` process from source.`,
      `The machine is shared: 1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end.`,
      '',
      `${N} nodes (node i bootstraps to node i-1 and every third to the author; booting took ${(bootMs / 1000).toFixed(0)} s). The author backs up a new version of a database MiMei (one hash field of 200 bytes and a counter more each time) every ${PUBLISH_MS / 1000} s for the whole run; the other ${N - 1} provide it (poll and gossip as shipped). Each round kills ${KILL} random providers (30 %) with SIGKILL, waits ${DOWN_MS / 1000} s, and starts them again on their data dir and p2p port, bootstrapping to the author and their neighbour. Catch-up = from a node's ready line to its holding the newest version the author had when it came back (polled every 200 ms over RPC). Lost = a version held before the kill missing afterwards, or its last version summing (MMSum) differently from the author's. Goal: catch-up < 10 s for every return, nothing lost.`,
      '',
      table(
        ['rounds', 'kills', 'versions published', 'catch-up p50', 'p95', 'max', 'not within 60 s', 'lost', 'providers behind 60 s after the last version', 'goal met'],
        [[ROUNDS, kills, final, ms(percentile(catchUps, 50)), ms(percentile(catchUps, 95)), ms(catchUps.length ? Math.max(...catchUps) : NaN), missed, lost.length ? lost.join('; ') : 0, behind ? behind : `0 (all there ${ms(settleMs)} after it)`, met ? 'yes' : '**no**']],
      ),
      '',
      restartRetries ? `${restartRetries} restart(s) found the p2p port or the one after it (WebSockets) taken and were started again a second later (catch-up is counted from the ready line).` : '',
      publishErrors.length ? `The author's RPC failed ${publishErrors.length} time(s) while publishing (tried again a second later): ${[...new Set(publishErrors)].join('; ')}` : '',
      '',
    ].join('\n'),
    { quick: N < 20 },
  )
} finally {
  stopPublishing = true
  await stopAll(nodes)
}
process.exit(0)
