// What an idle node costs in CPU: N `leither run` processes linked as in the propagation bench
// (node i to i-1, every third also to node 0), node 0 publishing one database MiMei and the others
// providing it, measured from /proc/PID/stat over a quiet window; next to one node with the network
// and no peers, and one `--offline`, in the same run. The last node of the chain can write a CPU
// profile (--profile=DIR: Bun's --cpu-prof-md, written when it stops).
// `bun bench/net-idle-cpu.ts [--nodes=20] [--seconds=20] [--profile=DIR]`
import { loadavg } from 'node:os'
import { callRemote } from '../runtime/rpc/client.ts'
import { MAIN } from '../test/helpers/node.ts'
import { bootNode, cpuMeter, stopAll, tcpAddrOf, until, type Node } from './replication-procs.ts'

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const n = Number(arg('nodes') ?? 20)
const seconds = Number(arg('seconds') ?? 20)
const profile = arg('profile')
const load = () => loadavg()[0].toFixed(1)

const measure = async (nodes: Node[]) => {
  const meter = cpuMeter(nodes)
  await Bun.sleep(seconds * 1000)
  const r = meter()
  return { median: Math.round(r.median), max: Math.round(r.max), sum: Math.round(r.sum) }
}

const loadStart = load()
const alone: Record<string, unknown> = {}
for (const [name, args] of [['network on, no peers', []], ['--offline', ['--offline']]] as const) {
  const k = await bootNode([], {}, { args: [...args] })
  await Bun.sleep(5000)
  alone[name] = await measure([k])
  await stopAll([k])
}

const nodes: Node[] = []
try {
  for (let i = 0; i < n; i++) {
    const boots = i === 0 ? [] : [await tcpAddrOf(nodes[i - 1]), ...(i % 3 === 0 && i > 1 ? [await tcpAddrOf(nodes[0])] : [])]
    const cmd = profile && i === n - 1 ? [process.execPath, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profile}`, MAIN] : undefined
    nodes.push(await bootNode(boots, {}, { cmd }))
  }
  const [author, ...others] = nodes
  await Promise.all(others.map((k) => until('a peer', async () => ((await k.s.call('SwarmPeers', [k.s.sid])) as unknown[]).length > 0)))
  const sa = author.s.sid
  const mid = (await author.s.call('MMCreate', [sa, 'bench', 'idle', '', 2, 1])) as string
  await author.s.call('Set', [await author.s.call('MMOpen', [sa, mid, 'cur']), 'n', 0])
  await author.s.call('MMBackup', [sa, mid, ''])
  await author.s.call('MiMeiPublish', [sa, mid])
  await Promise.all(others.map((k) => callRemote(k.proc.url, 'MiMeiProvide', [k.s.sid, mid], 180_000)))
  // Start-up work (DHT walks, provider announcements) settles first.
  await Bun.sleep(10_000)
  const chain = await measure(nodes)
  console.log(JSON.stringify({ n, seconds, loadStart, loadEnd: load(), alone, chain }, null, 1))
} finally {
  await stopAll(nodes)
}
