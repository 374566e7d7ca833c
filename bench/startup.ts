// `bun bench/startup.ts`: cold start to the ready line, stop on SIGTERM and idle RSS, leither vs bare Bun → bench/RESULTS.md.
import { readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { hostTarget } from '../builds/build.ts'
import pkg from '../package.json' with { type: 'json' }
import { buildLeither, buildSnippet, copyToTemp, WORK_DIR } from './bins.ts'
import { machineLine, table, writeSection } from './results.ts'
import { live, tempDir, tempDirs, withTimeout } from './support.ts'

const RUNS = 10
const READY_GOAL_MS = 300
const RSS_GOAL_MB = 80
const IDLE_WAIT_MS = 10_000
const TIMEOUT_MS = 15_000
const PARALLEL_START_TIMEOUT_MS = 90_000

// Every child is tracked and every temp dir removed, so none outlives this script (support.ts).

interface Started {
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  line: string
  ms: number
  stderr: Promise<string>
}

/** Spawns `cmd` and waits for its first stdout line; `ms` is spawn → line. */
async function startToLine(cmd: string[], timeoutMs = TIMEOUT_MS): Promise<Started> {
  const t0 = performance.now()
  const proc = Bun.spawn(cmd, { cwd: dirname(cmd[0]), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  live.add(proc)
  proc.exited.then(() => live.delete(proc))
  const stderr = new Response(proc.stderr).text()
  const reader = proc.stdout.getReader()
  const firstLine = async () => {
    let buf = ''
    while (!buf.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`exited (code ${await proc.exited}) before a line; stderr: ${await stderr}`)
      buf += new TextDecoder().decode(value)
    }
    return buf.slice(0, buf.indexOf('\n'))
  }
  try {
    const line = await withTimeout(firstLine(), timeoutMs, `first line of ${cmd.join(' ')}`)
    const ms = performance.now() - t0
    reader.releaseLock()
    return { proc, line, ms, stderr }
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
}

/** Spawn → exit of a program that prints nothing. */
async function spawnToExit(bin: string): Promise<number> {
  const t0 = performance.now()
  const proc = Bun.spawn([bin], { cwd: dirname(bin), stdio: ['ignore', 'ignore', 'ignore'] })
  live.add(proc)
  const code = await withTimeout(proc.exited, TIMEOUT_MS, bin)
  live.delete(proc)
  if (code !== 0) throw new Error(`${bin} exited ${code}`)
  return performance.now() - t0
}

/** SIGTERM → exit; returns the time and the exit code. */
async function stop(proc: Bun.Subprocess): Promise<{ ms: number; code: number }> {
  const t0 = performance.now()
  proc.kill('SIGTERM')
  const code = await withTimeout(proc.exited, TIMEOUT_MS, 'exit after SIGTERM').catch((err) => {
    proc.kill('SIGKILL')
    throw err
  })
  return { ms: performance.now() - t0, code }
}

function rssMB(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s*(\d+) kB/m)?.[1]
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kb) / 1024
}

// ---- statistics ----
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const median = (xs: number[]) => {
  const s = sorted(xs)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const p90 = (xs: number[]) => sorted(xs)[Math.ceil(0.9 * xs.length) - 1]
const min = (xs: number[]) => Math.min(...xs)
const max = (xs: number[]) => Math.max(...xs)
const f0 = (n: number) => n.toFixed(0)
const f1 = (n: number) => n.toFixed(1)
const signed = (n: number) => `${n < 0 ? '−' : '+'}${f1(Math.abs(n))}`

// ---- leither runs ----
interface NodeRun {
  readyMs: number
  getvarOk: boolean
  stopMs: number
  exitCode: number
}

// No mDNS: the bench must not send multicast onto the real network (loopback only).
const leitherArgs = (bin: string, data: string) => [bin, 'run', '--data', data, '--port', '0', '--p2p-port', '0', '--host', '127.0.0.1', '--no-mdns']

/** Start → ready, GET /getvar?name=ver, SIGTERM → exit. */
async function nodeRun(bin: string, data: string): Promise<NodeRun> {
  const s = await startToLine(leitherArgs(bin, data))
  const url = s.line.match(/^ready (http:\/\/\S+)$/)?.[1]
  if (!url) throw new Error(`unexpected first line: ${s.line}`)
  let getvarOk = false
  try {
    const res = await fetch(`${url}/getvar?name=ver`, { signal: AbortSignal.timeout(5000) })
    getvarOk = res.status === 200 && (await res.json()) === pkg.version
  } catch {}
  const { ms, code } = await stop(s.proc)
  if (code !== 0) console.error(`exit ${code}; stderr: ${await s.stderr}`)
  return { readyMs: s.ms, getvarOk, stopMs: ms, exitCode: code }
}

async function idleRss(cmd: (i: number) => string[]): Promise<number[]> {
  // Ten starting at once on a shared 2-core machine can take long: a limit, not a measurement.
  const started = await Promise.all(Array.from({ length: RUNS }, (_, i) => startToLine(cmd(i), PARALLEL_START_TIMEOUT_MS)))
  await Bun.sleep(IDLE_WAIT_MS)
  const rss = started.map((s) => rssMB(s.proc.pid))
  await Promise.all(started.map((s) => stop(s.proc)))
  return rss
}

const loadBefore = loadavg()[0]

// ---- build ----
const host = hostTarget()
const dir = join(WORK_DIR, 'startup')
process.stderr.write('building … ')
const bins = {
  bytecode: copyToTemp(buildLeither(host, dir, true)),
  plain: copyToTemp(buildLeither(host, dir, false)),
  empty: copyToTemp(buildSnippet(host, 'empty', dir, true)),
  ready: copyToTemp(buildSnippet(host, 'ready', dir, true)),
  idle: copyToTemp(buildSnippet(host, 'idle', dir, true)),
}
for (const b of Object.values(bins)) tempDirs.push(dirname(b))
process.stderr.write('done\n')

// ---- measure ----
const variants = { bytecode: 'leither --bytecode', plain: 'leither without bytecode' } as const
type Variant = keyof typeof variants
const fresh: Record<Variant, NodeRun[]> = { bytecode: [], plain: [] }
const restart: Record<Variant, NodeRun[]> = { bytecode: [], plain: [] }
const existing: Record<Variant, string> = { bytecode: tempDir('leither-data-'), plain: tempDir('leither-data-') }
const anchor = { exit: [] as number[], line: [] as number[] }

// One unmeasured run each: pages the binaries in and creates the keys of the "existing" data dirs.
for (const v of Object.keys(variants) as Variant[]) await nodeRun(bins[v], existing[v])
await spawnToExit(bins.empty)
await startToLine([bins.ready]).then((s) => s.proc.exited)

// Interleaved, so a slow moment of the machine hits every variant alike.
for (let i = 0; i < RUNS; i++) {
  process.stderr.write(`\rstart/stop runs ${i + 1}/${RUNS}`)
  anchor.exit.push(await spawnToExit(bins.empty))
  const r = await startToLine([bins.ready])
  await withTimeout(r.proc.exited, TIMEOUT_MS, 'ready program exit')
  anchor.line.push(r.ms)
  for (const v of Object.keys(variants) as Variant[]) {
    fresh[v].push(await nodeRun(bins[v], tempDir('leither-data-')))
    restart[v].push(await nodeRun(bins[v], existing[v]))
  }
}
process.stderr.write('\nidle RSS (10 s after ready, 10 processes at once) … ')
const rss = {
  bytecode: await idleRss((i) => leitherArgs(bins.bytecode, tempDir(`leither-rss-${i}-`))),
  plain: await idleRss((i) => leitherArgs(bins.plain, tempDir(`leither-rss-${i}-`))),
  idle: await idleRss(() => [bins.idle]),
}
process.stderr.write('done\n')

// ---- report ----
const loadAfter = loadavg()[0]
const anchorMs = median(anchor.line)
const stat = (name: string, xs: number[], vsAnchor = true) => [name, f1(median(xs)), f1(min(xs)), f1(p90(xs)), vsAnchor ? signed(median(xs) - anchorMs) : '']
const readyRows = (Object.keys(variants) as Variant[]).flatMap((v) => [
  stat(`${variants[v]}, first run (fresh dir)`, fresh[v].map((r) => r.readyMs)),
  stat(`${variants[v]}, restart (existing dir)`, restart[v].map((r) => r.readyMs)),
])
const allRuns = (v: Variant) => [...fresh[v], ...restart[v]]
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**')
// The shipping build has no bytecode (builds/build.ts: size budget).
const shipped = median(fresh.plain.map((r) => r.readyMs))
const shippedRestart = median(restart.plain.map((r) => r.readyMs))
const bytecodeRestart = median(restart.bytecode.map((r) => r.readyMs))
const plainRestart = median(restart.plain.map((r) => r.readyMs))
const rssShipped = median(rss.plain)

const markdown = [
  machineLine(),
  `The machine is shared: 1-minute load average ${loadBefore.toFixed(1)} before the builds, ${loadAfter.toFixed(1)} at the end.`,
  '',
  `Binaries copied to a fresh folder under ${tmpdir()} (no node_modules above), host target ${host.name}.`,
  `Each figure is over ${RUNS} runs, run one after another, the variants interleaved. A fresh data dir makes the node`,
  'create its keys and config; "restart" reuses a data dir that already has them.',
  '`leither run --data DIR --port 0 --p2p-port 0 --host 127.0.0.1 --no-mdns` (the libp2p node starts too); time = spawn → the `ready http://…` line on stdout.',
  'Anchor: a compiled one-line `console.log(\'ready\')` program, spawn → its line; "empty Bun" = `export {}`, spawn → exit.',
  '',
  table(
    ['program', 'median ms', 'min ms', 'p90 ms', 'vs anchor'],
    [stat('empty Bun program, spawn → exit', anchor.exit), stat("`console.log('ready')` program (anchor)", anchor.line, false), ...readyRows],
    'lrrrr',
  ),
  '',
  `Goal ready < ${READY_GOAL_MS} ms: ${verdict(shipped < READY_GOAL_MS && shippedRestart < READY_GOAL_MS)} ` +
    `(shipping build: ${f0(shipped)} ms first run, ${f0(shippedRestart)} ms restart). ` +
    `Bytecode (not shipped) would save ${f0(plainRestart - bytecodeRestart)} ms on a restart (median ${f0(plainRestart)} → ${f0(bytecodeRestart)} ms).`,
  '',
  'Every run: `GET /getvar?name=ver` after ready, then SIGTERM.',
  '',
  table(
    ['build', 'runs', 'getvar ver OK', 'exit 0 on SIGTERM', 'stop median ms', 'stop max ms'],
    (Object.keys(variants) as Variant[]).map((v) => {
      const runs = allRuns(v)
      return [
        variants[v],
        runs.length,
        `${runs.filter((r) => r.getvarOk).length}/${runs.length}`,
        `${runs.filter((r) => r.exitCode === 0).length}/${runs.length}`,
        f0(median(runs.map((r) => r.stopMs))),
        f0(max(runs.map((r) => r.stopMs))),
      ]
    }),
    'lrrrrr',
  ),
  '',
  `Idle RSS (VmRSS from /proc/PID/status) ${IDLE_WAIT_MS / 1000} s after ready; ${RUNS} processes of a kind started in parallel`,
  '(each with its own fresh data dir), one kind after another.',
  '',
  table(
    ['program', 'median MB', 'min MB', 'max MB'],
    [
      ['leither --bytecode', rss.bytecode],
      ['leither without bytecode', rss.plain],
      ['empty Bun program waiting on `setInterval`', rss.idle],
    ].map(([name, xs]) => [name as string, f1(median(xs as number[])), f1(min(xs as number[])), f1(max(xs as number[]))]),
    'lrrr',
  ),
  '',
  `Goal idle RSS < ${RSS_GOAL_MB} MB: ${verdict(rssShipped < RSS_GOAL_MB)} (${f1(rssShipped)} MB; the bare runtime takes ${f1(median(rss.idle))} MB).`,
].join('\n')

console.log(markdown)
const failures = (Object.keys(variants) as Variant[]).flatMap(allRuns).filter((r) => !r.getvarOk || r.exitCode !== 0).length
writeSection('Cold start and idle memory', markdown)
process.exit(failures ? 1 : 0)
