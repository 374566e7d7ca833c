// `bun bench/rss-peers.ts [BIN] [--peers N]`: what a node's memory grows by per connected peer. One
// hub node alone, then N nodes bootstrapping to it; the hub's VmRSS 10 s after ready and 20 s after
// the last peer connected. BIN: a compiled leither (default: from source). Prints; writes nothing.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { startNode, tempDir, LEITHER_SRC, type RunningNode } from '../test/helpers/node.ts'
import { connect } from '../runtime/cli/session.ts'
import type { Parsed } from '../runtime/cli/args.ts'
import { flag } from './support.ts'

const bin = process.argv[2] && !process.argv[2].startsWith('--') ? [process.argv[2]] : LEITHER_SRC
const N = Number(flag('peers') ?? 15)
const rss = (p: RunningNode) => Number(readFileSync(`/proc/${p.proc.pid}/status`, 'utf8').match(/^VmRSS:\s*(\d+) kB/m)![1]) / 1024
const args = (dir: string, extra: string[] = []) => ['--data', dir, '--port', '0', '--host', '127.0.0.1', ...extra]

const dirs: (string & Disposable)[] = []
const nodes: RunningNode[] = []
try {
  const hubDir = tempDir('leither-bench-')
  dirs.push(hubDir)
  const hub = await startNode(args(hubDir), { cmd: bin, timeoutMs: 60_000 })
  nodes.push(hub)
  await Bun.sleep(10_000)
  const alone = rss(hub)
  const s = connect({ flags: { data: hubDir, node: hub.url }, args: [] } as unknown as Parsed)
  await s.login()
  const addr = ((await s.call('GetVar', [s.sid, 'nodeaddrs'])) as string[]).find((a) => !a.includes('/ws') && !a.includes('p2p-circuit'))!
  for (let i = 0; i < N; i++) {
    const d = tempDir('leither-bench-')
    dirs.push(d)
    nodes.push(await startNode(args(d, ['--bootstrap', addr]), { cmd: bin, timeoutMs: 60_000 }))
  }
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await Bun.sleep(500)) {
    if (((await s.call('SwarmPeers', [s.sid])) as unknown[]).length >= N) break
  }
  const peers = ((await s.call('SwarmPeers', [s.sid])) as unknown[]).length
  await Bun.sleep(20_000)
  const withPeers = rss(hub)
  console.log(JSON.stringify({ bin: bin.join(' '), alone: alone.toFixed(1), peers, withPeers: withPeers.toFixed(1), perPeer: ((withPeers - alone) / peers).toFixed(2), load: loadavg()[0].toFixed(1) }))
  await s.close()
} finally {
  await Promise.all(nodes.map((n) => n.stop()))
  for (const d of dirs) d[Symbol.dispose]()
}
process.exit(0)
