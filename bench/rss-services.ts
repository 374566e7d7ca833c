// `bun bench/rss-services.ts [--quick]`: idle RSS of the compiled binary 10 s after ready with each
// optional libp2p part left out (LEITHER_NET_OFF), next to --offline and an idle Bun program in
// the same run → bench/RESULTS.md "Idle memory by libp2p service".
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { hostTarget } from '../builds/build.ts'
import { OPTIONAL_SERVICES } from '../runtime/net/index.ts'
import { buildLeither, buildSnippet, buildCommit, copyToTemp, WORK_DIR } from './bins.ts'
import { machineLine, table, writeSection } from './results.ts'
import { live, tempDir, tempDirs, track, withTimeout } from './support.ts'

const quick = process.argv.includes('--quick')
const PROCS = quick ? 2 : 6
const IDLE_WAIT_MS = 10_000

function rssMB(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s*(\d+) kB/m)?.[1]
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kb) / 1024
}

/** Starts `cmd`, waits for its first stdout line. */
async function start(cmd: string[], env: Record<string, string>) {
  const proc = track(Bun.spawn(cmd, { cwd: dirname(cmd[0]), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...env } }))
  const stderr = new Response(proc.stderr).text()
  const reader = proc.stdout.getReader()
  let buf = ''
  await withTimeout(
    (async () => {
      while (!buf.includes('\n')) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`${cmd.join(' ')} exited before a line: ${await stderr}`)
        buf += new TextDecoder().decode(value)
      }
    })(),
    30_000,
    cmd.join(' '),
  )
  reader.releaseLock()
  return proc
}

/** PROCS processes of one kind at once; RSS of each IDLE_WAIT_MS after its ready line. */
async function idle(cmd: () => string[], env: Record<string, string> = {}): Promise<number[]> {
  const procs = await Promise.all(Array.from({ length: PROCS }, () => start(cmd(), env)))
  await Bun.sleep(IDLE_WAIT_MS)
  const rss = procs.map((p) => rssMB(p.pid))
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map((p) => withTimeout(p.exited, 15_000, 'exit')))
  return rss
}

const loadBefore = loadavg()[0]
const host = hostTarget()
process.stderr.write('building … ')
const bin = copyToTemp(buildLeither(host, join(WORK_DIR, 'rss'), false))
const idleBin = copyToTemp(buildSnippet(host, 'idle', join(WORK_DIR, 'rss'), true))
for (const b of [bin, idleBin]) tempDirs.push(dirname(b))
process.stderr.write('done\n')

const run = (...extra: string[]) => () => [bin, 'run', '--data', tempDir('leither-rss-'), '--port', '0', '--p2p-port', '0', '--host', '127.0.0.1', '--no-mdns', ...extra]
const variants: { name: string; cmd: () => string[]; env?: Record<string, string> }[] = [
  { name: 'empty Bun program waiting on `setInterval` (anchor)', cmd: () => [idleBin] },
  { name: 'leither --offline (no libp2p node)', cmd: run('--offline') },
  { name: 'leither, network on, every service', cmd: run() },
  ...OPTIONAL_SERVICES.map((s) => ({ name: `leither, network on, without ${s}`, cmd: run(), env: { LEITHER_NET_OFF: s } })),
  { name: `leither, network on, without ${OPTIONAL_SERVICES.join(', ')}`, cmd: run(), env: { LEITHER_NET_OFF: OPTIONAL_SERVICES.join(',') } },
]
// Two passes in opposite orders, so a slow or busy moment of the machine does not favour one kind.
const results = new Map<string, number[]>(variants.map((v) => [v.name, []]))
for (const order of quick ? [variants] : [variants, [...variants].reverse()]) {
  for (const v of order) {
    process.stderr.write(`${v.name} … `)
    const rss = await idle(v.cmd, v.env)
    results.get(v.name)!.push(...rss)
    process.stderr.write(`${rss.map((x) => x.toFixed(0)).join(' ')} MB\n`)
  }
}
const loadAfter = loadavg()[0]

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const all = median(results.get(variants[2].name)!)
const rows = variants.map((v) => {
  const xs = results.get(v.name)!
  const m = median(xs)
  return [v.name, m.toFixed(1), Math.min(...xs).toFixed(1), Math.max(...xs).toFixed(1), v === variants[2] || v === variants[0] ? '' : `${m - all <= 0 ? '−' : '+'}${Math.abs(m - all).toFixed(1)}`]
})
const markdown = [
  machineLine(),
  `The machine is shared: 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end.`,
  '',
  `Shipping build (no bytecode) from commit ${buildCommit()}, copied to a fresh folder (no node_modules above).`,
  '`leither run --data DIR --port 0 --p2p-port 0 --host 127.0.0.1 --no-mdns` with a fresh data dir, no peers;',
  `VmRSS ${IDLE_WAIT_MS / 1000} s after the ready line; ${PROCS} processes of a kind at once, ${quick ? 'one pass' : 'two passes (the kinds in one order, then reversed)'}.`,
  'A part is left out with LEITHER_NET_OFF (runtime/net/index.ts): autonat, dcutr = those services; relay = the circuit',
  'relay server (16 reservations); circuit = the relay transport and its /p2p-circuit listener; websockets = that transport.',
  '',
  table(['program', 'median MB', 'min MB', 'max MB', 'vs every service'], rows, 'lrrrr'),
].join('\n')
console.log(markdown)
writeSection('Idle memory by libp2p service', markdown, { quick })
if (live.size) throw new Error('children left running')
process.exit(0)
