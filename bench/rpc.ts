// `bun bench/rpc.ts [--quick] [--seconds N] [--bin PATH]`: Hprose calls/s and latency, our node vs the official hprose 2.x server → bench/RESULTS.md.
// A quick run (--quick, or runs shorter than 5 s) is printed, not recorded.
//
// Both servers, and a bare Bun.serve as an anchor, run as separate processes on 127.0.0.1 and
// are driven by the same raw load generator in this process: a pre-encoded `Echo("hello")`
// request, each reply checked byte for byte. HTTP goes through fetch (keep-alive), WebSocket
// through Bun's WebSocket with the `<4-byte BE id><payload>` framing. "64 in flight" keeps 64
// calls outstanding at all times. --bin runs a compiled leither binary instead of the source.
import { mkdtempSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { machineLine, table, writeSection } from './results.ts'
import { flag, live, tempDirs, withTimeout } from './support.ts'

const ROOT = join(import.meta.dir, '..')
const BUN = process.execPath
const REQUEST = new TextEncoder().encode('Cs4"Echo"a1{s5"hello"}z')
const REPLY = new TextEncoder().encode('Rs5"hello"z')
const RUNS = 3
const WARMUP_MS = 1000
const CONCURRENCY = 64
const RATIO_GOAL = 3
const P99_GOAL_MS = 10
const START_TIMEOUT_MS = 15_000
/** A run that has not finished this long after its deadline is a hang: the bench stops. */
const RUN_GRACE_MS = 10_000

// ---- arguments ----
const FULL_SECONDS = 5
const SECONDS = Number(flag('seconds') ?? (process.argv.includes('--quick') ? 1 : FULL_SECONDS))
if (!(SECONDS > 0 && SECONDS <= 120)) throw new Error('--seconds must be a number in (0, 120]')
const QUICK = process.argv.includes('--quick') || SECONDS < FULL_SECONDS
/** The bare server's runs are shorter: it only anchors the others. */
const BARE_SECONDS = Math.max(1, Number((SECONDS * 0.4).toFixed(1)))
const BIN = flag('bin')

interface Server {
  proc: Bun.Subprocess<'pipe', 'pipe', 'pipe'>
  line: string
  stderr: Promise<string>
}

/** Spawns a server and waits for its `ready …` line on stdout. stdin stays open: the anchor exits when it closes. */
async function startServer(cmd: string[]): Promise<Server> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' })
  live.add(proc)
  proc.exited.then(() => live.delete(proc))
  const stderr = new Response(proc.stderr).text()
  const reader = proc.stdout.getReader()
  const firstLine = async () => {
    let buf = ''
    const decoder = new TextDecoder()
    while (!buf.includes('\n')) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`${cmd.join(' ')} exited (code ${await proc.exited}) before its ready line; stderr: ${await stderr}`)
      buf += decoder.decode(value, { stream: true })
    }
    return buf.slice(0, buf.indexOf('\n'))
  }
  try {
    const line = await withTimeout(firstLine(), START_TIMEOUT_MS, `ready line of ${cmd.join(' ')}`)
    reader.releaseLock()
    return { proc, line, stderr }
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
}

async function stopServer(s: Server): Promise<void> {
  s.proc.kill('SIGTERM')
  await withTimeout(s.proc.exited, 5000, `exit of pid ${s.proc.pid}`).catch(() => s.proc.kill('SIGKILL'))
}

/** CPU time (user + system, all threads) a process has used, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the `(comm) ` part, in clock ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

// ---- load generator ----
interface Target {
  name: string
  pid: number
  httpUrl: string
  wsUrl: string
}

interface RunResult {
  calls: number
  seconds: number
  /** Per-call latency in ms. */
  latencies: Float64Array
  serverCpuMs: number
  clientCpuMs: number
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const show = (b: Uint8Array) => JSON.stringify(new TextDecoder().decode(b.subarray(0, 200)))

/** Latencies into a growing Float64Array (no per-call allocation). */
class Samples {
  buf = new Float64Array(1 << 16)
  n = 0
  push(v: number): void {
    if (this.n === this.buf.length) {
      const grown = new Float64Array(this.buf.length * 2)
      grown.set(this.buf)
      this.buf = grown
    }
    this.buf[this.n++] = v
  }
  done(): Float64Array {
    return this.buf.subarray(0, this.n)
  }
}

/** `workers` loops, each posting the request and waiting for its reply, until `ms` have passed. */
async function loadHttp(url: string, workers: number, ms: number): Promise<{ calls: number; seconds: number; latencies: Float64Array }> {
  const samples = new Samples()
  const started = performance.now()
  const deadline = started + ms
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      const res = await fetch(url, { method: 'POST', body: REQUEST, keepalive: true })
      const body = await res.bytes()
      if (res.status !== 200 || !sameBytes(body, REPLY)) throw new Error(`HTTP ${url}: status ${res.status}, reply ${show(body)}`)
      samples.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return { calls: samples.n, seconds: (performance.now() - started) / 1000, latencies: samples.done() }
}

/** One WebSocket; keeps `inFlight` ids outstanding (a new call per reply) until `ms` have passed. */
async function loadWs(url: string, inFlight: number, ms: number): Promise<{ calls: number; seconds: number; latencies: Float64Array }> {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error(`WebSocket ${url} failed to open`))
    }),
    5000,
    `open ${url}`,
  )
  const samples = new Samples()
  const sentAt = new Map<number, number>()
  const frame = new Uint8Array(4 + REQUEST.length)
  frame.set(REQUEST, 4)
  const frameView = new DataView(frame.buffer)
  let nextId = 1
  const send = () => {
    const id = nextId++
    frameView.setUint32(0, id)
    sentAt.set(id, performance.now())
    ws.send(frame) // copied on send, so the one buffer is reused
  }
  const started = performance.now()
  const deadline = started + ms
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  ws.onmessage = (ev) => {
    const now = performance.now()
    const data = new Uint8Array(ev.data as ArrayBuffer)
    const id = data.length >= 4 ? new DataView(data.buffer, data.byteOffset).getUint32(0) : -1
    const t0 = sentAt.get(id)
    if (t0 === undefined || !sameBytes(data.subarray(4), REPLY)) {
      reject(new Error(`WS ${url}: unexpected reply id ${id} ${show(data.subarray(4))}`))
      return
    }
    sentAt.delete(id)
    samples.push(now - t0)
    if (now < deadline) send()
    else if (sentAt.size === 0) resolve()
  }
  ws.onclose = (ev) => reject(new Error(`WS ${url} closed: ${ev.code} ${ev.reason}`))
  ws.onerror = () => reject(new Error(`WS ${url} error`))
  for (let i = 0; i < inFlight; i++) send()
  try {
    await promise
  } finally {
    ws.onclose = null
    ws.onmessage = null
    ws.close()
  }
  return { calls: samples.n, seconds: (performance.now() - started) / 1000, latencies: samples.done() }
}

type Transport = 'HTTP' | 'WS'

async function run(target: Target, transport: Transport, inFlight: number, ms: number): Promise<RunResult> {
  const cpu0 = cpuMs(target.pid)
  const client0 = process.cpuUsage()
  const load = transport === 'HTTP' ? loadHttp(target.httpUrl, inFlight, ms) : loadWs(target.wsUrl, inFlight, ms)
  const r = await withTimeout(load, ms + RUN_GRACE_MS, `${target.name} ${transport} ×${inFlight}`)
  const client = process.cpuUsage(client0)
  return { ...r, serverCpuMs: cpuMs(target.pid) - cpu0, clientCpuMs: (client.user + client.system) / 1000 }
}

// ---- statistics ----
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}
function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out.sort()
}

interface LineStats {
  rate: number
  rates: number[]
  p50: number
  p99: number
  /** Server CPU per call, µs (median over runs). */
  cpuUs: number
  /** Load generator CPU as a share of one core (median over runs). */
  clientCore: number
}

function summarize(runs: RunResult[]): LineStats {
  const rates = runs.map((r) => r.calls / r.seconds)
  const lat = concat(runs.map((r) => r.latencies))
  return {
    rate: median(rates),
    rates,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    cpuUs: median(runs.map((r) => (r.serverCpuMs * 1000) / r.calls)),
    clientCore: median(runs.map((r) => r.clientCpuMs / (r.seconds * 1000))),
  }
}

// ---- main ----
const dataDir = mkdtempSync(join(tmpdir(), 'leither-bench-rpc-'))
tempDirs.push(dataDir)
const nodeCmd = [
  ...(BIN ? [BIN] : [BUN, join(ROOT, 'runtime/main.ts')]),
  ...['run', '--data', dataDir, '--port', '0', '--p2p-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
]
const nodeVersion = Bun.spawnSync(['node', '--version'], { timeout: 10_000 }).stdout.toString().trim()

process.stderr.write('starting servers … ')
const ours = await startServer(nodeCmd)
const official = await startServer(['node', join(import.meta.dir, 'anchors/hprose2-server.cjs')])
const bare = await startServer([BUN, join(import.meta.dir, 'anchors/bare-bun-server.ts')])
process.stderr.write('ready\n')

const oursUrl = ours.line.match(/^ready (http:\/\/\S+)$/)?.[1]
if (!oursUrl) throw new Error(`unexpected ready line from the node: ${ours.line}`)
const anchorUrls = official.line.match(/^ready (http:\/\/\S+) (ws:\/\/\S+)$/)
if (!anchorUrls) throw new Error(`unexpected ready line from the anchor: ${official.line}`)
const bareUrl = bare.line.match(/^ready (http:\/\/\S+)$/)?.[1]
if (!bareUrl) throw new Error(`unexpected ready line from the bare server: ${bare.line}`)

type Name = 'ours' | 'official' | 'bare'
const targets: (Target & { name: Name; seconds: number })[] = [
  { name: 'ours', seconds: SECONDS, pid: ours.proc.pid, httpUrl: `${oursUrl}/webapi/`, wsUrl: `${oursUrl.replace(/^http/, 'ws')}/ws/` },
  { name: 'official', seconds: SECONDS, pid: official.proc.pid, httpUrl: anchorUrls[1]!, wsUrl: anchorUrls[2]! },
  // The bare anchor runs shorter (keeps the bench under 3 minutes).
  { name: 'bare', seconds: BARE_SECONDS, pid: bare.proc.pid, httpUrl: `${bareUrl}/`, wsUrl: `${bareUrl.replace(/^http/, 'ws')}/` },
]

const LINES: { transport: Transport; inFlight: number; label: string }[] = [
  { transport: 'HTTP', inFlight: 1, label: 'HTTP sequential' },
  { transport: 'HTTP', inFlight: CONCURRENCY, label: `HTTP ${CONCURRENCY} in flight` },
  { transport: 'WS', inFlight: 1, label: 'WebSocket sequential' },
  { transport: 'WS', inFlight: CONCURRENCY, label: `WebSocket ${CONCURRENCY} in flight` },
]

const results: ({ label: string; inFlight: number } & Record<Name, LineStats>)[] = []
const loadBefore = loadavg()[0]!
const t0 = performance.now()
for (const line of LINES) {
  const byTarget = new Map<Name, RunResult[]>(targets.map((t) => [t.name, []]))
  for (const t of targets) await run(t, line.transport, line.inFlight, WARMUP_MS)
  // Runs interleaved, so a slow moment of the machine hits every server alike.
  for (let i = 0; i < RUNS; i++) {
    for (const t of targets) {
      process.stderr.write(`\r${line.label.padEnd(24)} run ${i + 1}/${RUNS} ${t.name.padEnd(8)}`)
      byTarget.get(t.name)!.push(await run(t, line.transport, line.inFlight, t.seconds * 1000))
      Bun.gc(true)
    }
  }
  results.push({
    label: line.label,
    inFlight: line.inFlight,
    ours: summarize(byTarget.get('ours')!),
    official: summarize(byTarget.get('official')!),
    bare: summarize(byTarget.get('bare')!),
  })
}
const measuredSec = (performance.now() - t0) / 1000
const loadAfter = loadavg()[0]!
process.stderr.write(`\rmeasured in ${measuredSec.toFixed(0)} s${' '.repeat(30)}\n`)

await Promise.all([stopServer(ours), stopServer(official), stopServer(bare)])

// ---- report ----
const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0))
const ms2 = (n: number) => n.toFixed(2)
const pct = (n: number) => `${(n * 100).toFixed(0)} %`
const yes = (ok: boolean) => (ok ? 'yes' : '**no**')
const verdicts = results.map((r) => ({
  ratio: r.ours.rate / r.official.rate,
  ratioOk: r.ours.rate / r.official.rate >= RATIO_GOAL,
  p99Ok: r.inFlight === 1 || r.ours.p99 < P99_GOAL_MS,
}))
const allRatio = verdicts.every((v) => v.ratioOk)
const bareUnder = results.filter((r) => r.bare.rate / r.official.rate < RATIO_GOAL).map((r) => r.label)
const oursOver = results.filter((r) => r.ours.rate > r.bare.rate).map((r) => r.label)
const allP99 = verdicts.every((v) => v.p99Ok)
const runsText = results
  .map(
    (r) =>
      `${r.label}: ours ${r.ours.rates.map(k).join(', ')}; official ${r.official.rates.map(k).join(', ')}; ` +
      `bare ${r.bare.rates.map(k).join(', ')}`,
  )
  .join('\n')

const markdown = [
  machineLine(),
  `Node ${nodeVersion} for the official server; ${availableParallelism()} cores (${cpus().length} CPUs listed). ` +
    `Load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the ${measuredSec.toFixed(0)} s of measuring.`,
  '',
  table(
    ['line', 'ours calls/s', 'official calls/s', `ours / official (goal ≥ ${RATIO_GOAL}×)`, 'bare Bun.serve calls/s', 'bare / official'],
    results.map((r, i) => [
      r.label,
      k(r.ours.rate),
      k(r.official.rate),
      `${verdicts[i]!.ratio.toFixed(2)}× ${yes(verdicts[i]!.ratioOk)}`,
      k(r.bare.rate),
      `${(r.bare.rate / r.official.rate).toFixed(2)}×`,
    ]),
    'lrrrrr',
  ),
  '',
  table(
    ['line', 'ours p50 / p99 ms', `p99 < ${P99_GOAL_MS} ms`, 'official p50 / p99 ms', 'server CPU µs/call: ours / official / bare', 'load generator CPU: ours / official runs'],
    results.map((r, i) => [
      r.label,
      `${ms2(r.ours.p50)} / ${ms2(r.ours.p99)}`,
      r.inFlight > 1 ? yes(verdicts[i]!.p99Ok) : '(not a goal)',
      `${ms2(r.official.p50)} / ${ms2(r.official.p99)}`,
      `${r.ours.cpuUs.toFixed(0)} / ${r.official.cpuUs.toFixed(0)} / ${r.bare.cpuUs.toFixed(0)}`,
      `${pct(r.ours.clientCore)} / ${pct(r.official.clientCore)}`,
    ]),
    'lrlrrr',
  ),
  '',
  `Goal ours ≥ ${RATIO_GOAL}× the official server on every line: ${allRatio ? 'met' : '**missed**'}. ` +
    `Goal p99 < ${P99_GOAL_MS} ms at ${CONCURRENCY} in flight: ${allP99 ? 'met' : '**missed**'}.`,
  `Lines where the bare Bun.serve is itself under ${RATIO_GOAL}× the official server: ${bareUnder.length ? bareUnder.join(', ') : 'none'}. ` +
    `Lines where ours is faster than the bare Bun.serve: ${oursOver.length ? oursOver.join(', ') : 'none'}.`,
  '',
  'Method:',
  `* Ours: \`${BIN ? 'leither' : 'bun runtime/main.ts'} run --port 0 --p2p-port 0 --host 127.0.0.1 --log-level warn\` (${BIN ? `compiled binary ${BIN}` : 'from source, not the compiled binary'}),`,
  '  its own process, default config otherwise (so its libp2p node runs too); POST /webapi/ and WebSocket /ws/.',
  '* Official: `hprose@2.0.51` under Node (`bench/anchors/hprose2-server.cjs`: HttpService on node:http, and the official',
  '  WebSocketServer), its own process. Both serve `Echo(value) → value`.',
  '* Bare: `bench/anchors/bare-bun-server.ts`, a Bun.serve that reads the body and answers the fixed reply without parsing',
  `  anything; its runs are ${BARE_SECONDS} s.`,
  `* One load generator in this Bun process drives all three: the pre-encoded request \`Cs4"Echo"a1{s5"hello"}z\`, every reply`,
  '  checked to be exactly `Rs5"hello"z`. HTTP: fetch with keep-alive, 1 or 64 concurrent loops. WebSocket: one connection,',
  '  `<4-byte BE id><request>` frames, 1 or 64 ids outstanding (a new call as each reply arrives).',
  `* Each line: ${WARMUP_MS / 1000} s warm-up per server, then ${RUNS} runs per server of ${SECONDS} s, interleaved;`,
  `  calls/s is the median run; p50/p99 are over every call of the ${RUNS} runs (send → reply, in the load generator).`,
  '* Server CPU µs/call: user+system time of the server process (all threads, /proc/PID/stat) over the run / calls.',
  '  Load generator CPU: this process as a share of one core.',
  '',
  'Runs (calls/s):',
  '',
  '```',
  runsText,
  '```',
].join('\n')

if (!QUICK) console.log(markdown)
writeSection('RPC throughput (Hprose)', markdown, { quick: QUICK })
process.exit(0)
