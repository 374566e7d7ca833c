// `bun bench/monitor.ts [--quick] [--seconds N]`: RPC throughput with the monitor recording vs not, in the same run → bench/RESULTS.md.
//
// Two nodes run from source as their own processes, alike but for leither.json "monitor": false on
// one. One load generator here drives Echo("hello") at each in turn, runs interleaved on/off/off/on
// so a slow moment of the machine hits both alike; the cost is read from each on run against the off
// run next to it. Beside it, in this process: a node's dispatcher running Echo with recording on and
// off in alternating batches, and the recorder alone (ns per recorded call).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { boot } from '../runtime/boot.ts'
import { Recorder } from '../runtime/monitor/recorder.ts'
import { machineLine, table, writeSection } from './results.ts'
import { flag, tempDir, track, withTimeout } from './support.ts'

const ROOT = join(import.meta.dir, '..')
const REQUEST = new TextEncoder().encode('Cs4"Echo"a1{s5"hello"}z')
const REPLY = 'Rs5"hello"z'
const FULL_SECONDS = 2
const SECONDS = Number(flag('seconds') ?? (process.argv.includes('--quick') ? 1 : FULL_SECONDS))
if (!(SECONDS > 0 && SECONDS <= 120)) throw new Error('--seconds must be a number in (0, 120]')
const QUICK = process.argv.includes('--quick') || SECONDS < FULL_SECONDS
/** Rounds of on/off/off/on: each side runs 2 × ROUNDS times per line. */
const ROUNDS = QUICK ? 1 : 8
const IN_FLIGHT = 64
/** Rounds of on/off/off/on batches of the in-process dispatcher. */
const IN_PROCESS_ROUNDS = QUICK ? 20 : 300
const GOAL = 0.02

interface Node {
  name: 'on' | 'off'
  pid: number
  url: string
  proc: Bun.Subprocess
}

async function startNode(name: 'on' | 'off'): Promise<Node> {
  const dir = tempDir(`leither-bench-monitor-${name}-`)
  writeFileSync(join(dir, 'leither.json'), JSON.stringify({ monitor: name === 'on' }))
  const cmd = [process.execPath, join(ROOT, 'runtime/main.ts'), 'run', '--data', dir, '--port', '0', '--offline', '--host', '127.0.0.1', '--log-level', 'warn']
  const proc = track(Bun.spawn(cmd, { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' }))
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const r = await withTimeout(reader.read(), 20_000, `ready line of the ${name} node`)
    if (r.done) throw new Error(`the ${name} node exited before its ready line`)
    text += new TextDecoder().decode(r.value)
  }
  const url = /^ready (http:\/\/\S+)/.exec(text)?.[1]
  if (!url) throw new Error(`unexpected ready line: ${text}`)
  return { name, pid: proc.pid, url, proc }
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}

/** `inFlight` calls outstanding over one WebSocket, or that many HTTP loops, for `ms`. */
async function load(node: Node, transport: 'HTTP' | 'WS', ms: number): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = cpuMs(node.pid)
  let calls = 0
  const started = performance.now()
  const deadline = started + ms
  if (transport === 'HTTP') {
    const loop = async () => {
      while (performance.now() < deadline) {
        const body = await (await fetch(`${node.url}/webapi/`, { method: 'POST', body: REQUEST })).text()
        if (body !== REPLY) throw new Error(`unexpected reply ${body}`)
        calls++
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, loop))
  } else {
    const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/ws/`)
    ws.binaryType = 'arraybuffer'
    await withTimeout(new Promise((ok, fail) => ((ws.onopen = ok), (ws.onerror = fail))), 5000, 'WebSocket open')
    const frame = new Uint8Array(4 + REQUEST.length)
    frame.set(REQUEST, 4)
    let id = 0
    let out = 0
    const send = () => {
      new DataView(frame.buffer).setUint32(0, ++id)
      out++
      ws.send(frame)
    }
    await new Promise<void>((done, fail) => {
      ws.onmessage = (ev) => {
        out--
        if (new TextDecoder().decode(new Uint8Array(ev.data as ArrayBuffer).subarray(4)) !== REPLY) fail(new Error('unexpected reply'))
        calls++
        if (performance.now() < deadline) send()
        else if (out === 0) done()
      }
      ws.onclose = () => fail(new Error('WebSocket closed'))
      for (let i = 0; i < IN_FLIGHT; i++) send()
    })
    ws.onclose = null
    ws.close()
  }
  const seconds = (performance.now() - started) / 1000
  return { rate: calls / seconds, cpuUs: ((cpuMs(node.pid) - cpu0) * 1000) / calls }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** ns per recorded call: the recorder alone, 40 syscall names, as the dispatcher calls it. */
function recorderNs(): number {
  const r = new Recorder(Date.now)
  const names = Array.from({ length: 40 }, (_, i) => `Syscall${i}`)
  const N = 5_000_000
  for (let i = 0; i < 200_000; i++) r.syscall(names[i % 40]!, (i % 97) / 10, false)
  const t0 = performance.now()
  for (let i = 0; i < N; i++) r.syscall(names[i % 40]!, (i % 97) / 10, (i & 63) === 0)
  return ((performance.now() - t0) * 1e6) / N
}

/** In this process: a node's dispatcher serving Echo, batches with recording on and off alternating; ns per call of each. */
async function inProcess(): Promise<{ on: number[]; off: number[] }> {
  const node = await boot({ dataDir: tempDir('leither-bench-monitor-dispatch-'), overrides: { port: 0, p2p: false, logLevel: 'warn' }, logToStderr: false })
  const meta = { transport: 'local' } as const
  const args = ['hello']
  const BATCH = QUICK ? 2_000 : 10_000
  // CPU time, not wall time: on a shared machine the process is often waiting for a core.
  const batch = async () => {
    const c0 = process.cpuUsage()
    for (let i = 0; i < BATCH; i++) await node.dispatcher.call('Echo', args, meta)
    const c = process.cpuUsage(c0)
    return ((c.user + c.system) * 1000) / BATCH
  }
  await batch()
  const out = { on: [] as number[], off: [] as number[] }
  for (let round = 0; round < IN_PROCESS_ROUNDS; round++) {
    for (const on of [true, false, false, true]) {
      node.monitor.recording = on
      out[on ? 'on' : 'off'].push(await batch())
    }
  }
  await node.stop()
  return out
}

const loadBefore = loadavg()[0]!
process.stderr.write('starting nodes … ')
const nodes = { on: await startNode('on'), off: await startNode('off') }
process.stderr.write('ready\n')
const LINES = [
  { transport: 'WS' as const, label: `WebSocket ${IN_FLIGHT} in flight` },
  { transport: 'HTTP' as const, label: `HTTP ${IN_FLIGHT} in flight` },
]
const results: { label: string; on: number[]; off: number[]; onCpu: number[]; offCpu: number[] }[] = []
const t0 = performance.now()
for (const line of LINES) {
  const r = { label: line.label, on: [] as number[], off: [] as number[], onCpu: [] as number[], offCpu: [] as number[] }
  for (const n of [nodes.on, nodes.off]) await load(n, line.transport, 1000)
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of [nodes.on, nodes.off, nodes.off, nodes.on]) {
      process.stderr.write(`\r${line.label} round ${round + 1}/${ROUNDS} ${n.name}  `)
      const x = await load(n, line.transport, SECONDS * 1000)
      r[n.name].push(x.rate)
      r[n.name === 'on' ? 'onCpu' : 'offCpu'].push(x.cpuUs)
      Bun.gc(true)
    }
  }
  results.push(r)
}
const inproc = await inProcess()
const measuredSec = (performance.now() - t0) / 1000
const ns = recorderNs()
const loadAfter = loadavg()[0]!
process.stderr.write(`\rmeasured in ${measuredSec.toFixed(0)} s${' '.repeat(30)}\n`)
for (const n of Object.values(nodes)) n.proc.kill('SIGTERM')

const k = (n: number) => `${(n / 1000).toFixed(1)}k`
// Runs go on/off/off/on: each on run is paired with the off run next to it.
/** Cost of each pair: 1 − on/off for rates, on/off − 1 for times. */
const pairCosts = (on: number[], off: number[], higherIsBetter: boolean) => on.map((x, i) => (higherIsBetter ? 1 - x / off[i]! : x / off[i]! - 1))
const costs = results.map((r) => pairCosts(r.on, r.off, true))
const cpuCosts = results.map((r) => pairCosts(r.onCpu, r.offCpu, false))
const inprocCosts = pairCosts(inproc.on, inproc.off, false)
const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const spread = (xs: number[]) => `${pct(quantile(xs, 0.25))} … ${pct(quantile(xs, 0.75))}`
const cpuShare = results.map((r) => ns / 1000 / median(r.offCpu))
const markdown = [
  machineLine(),
  `Load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the ${measuredSec.toFixed(0)} s of measuring (2 cores; other work was running).`,
  '',
  table(
    ['line', 'monitor on', 'monitor off', 'cost: median of pairs', 'middle half of pairs'],
    [
      ...results.flatMap((r, i) => [
        [`${r.label}: calls/s`, k(median(r.on)), k(median(r.off)), pct(median(costs[i]!)), spread(costs[i]!)],
        [`${r.label}: server CPU µs/call`, median(r.onCpu).toFixed(2), median(r.offCpu).toFixed(2), pct(median(cpuCosts[i]!)), spread(cpuCosts[i]!)],
      ]),
      ['dispatcher in process, Echo: CPU ns/call', median(inproc.on).toFixed(0), median(inproc.off).toFixed(0), pct(median(inprocCosts)), spread(inprocCosts)],
    ],
    'lrrrr',
  ),
  '',
  `The recorder alone (runtime/monitor/recorder.ts, this process, 40 names): ${ns.toFixed(0)} ns per recorded call, ` +
    results.map((r, i) => `${(cpuShare[i]! * 100).toFixed(2)} % of the off node's CPU per call on the ${r.label} line`).join(', ') + '.',
  `Goal, the monitor costs under ${GOAL * 100} % of RPC throughput: ${costs.every((c) => median(c) < GOAL) ? 'met' : '**missed**'} on the calls/s medians of pairs, ` +
    `where the off runs alone differ from each other by up to ${results.map((r) => pct(Math.max(...r.off) / Math.min(...r.off) - 1)).join(' and ')}; ` +
    `in process, Echo through the dispatcher alone (no transport), the median of ${inprocCosts.length} pairs is ${pct(median(inprocCosts))}.`,
  '',
  'Method: two nodes from source (`run --offline --port 0`), alike but for `"monitor": false` in one leither.json; one load',
  `generator in this process sends Echo("hello") with ${IN_FLIGHT} calls outstanding (one WebSocket, or ${IN_FLIGHT} HTTP loops with`,
  `keep-alive), each reply checked. Per line: 1 s warm-up each, then ${ROUNDS} rounds of on/off/off/on runs of ${SECONDS} s;`,
  'calls/s is the median run; the cost is the median over each on run against the off run beside it. Server CPU:',
  'user+system of the node process (/proc/PID/stat) over the run / calls. In process: one node booted here, Echo through',
  `its dispatcher (validation, authorization, handler, recording) in batches of ${QUICK ? '2,000' : '10,000'} calls, recording switched on and off`,
  `between batches (${IN_PROCESS_ROUNDS} rounds of on/off/off/on), CPU time of this process per call.`,
  '',
  'Runs (calls/s):',
  '',
  '```',
  ...results.map((r) => `${r.label}: on ${r.on.map(k).join(', ')}; off ${r.off.map(k).join(', ')}`),
  `dispatcher in process, CPU ns/call of the ${inproc.on.length} batches each, min / quartiles / max: ` +
    ['on', 'off'].map((side) => `${side} ${[0, 0.25, 0.5, 0.75, 1].map((q) => quantile(inproc[side as 'on' | 'off'], q).toFixed(0)).join(' / ')}`).join('; '),
  '```',
].join('\n')

if (!QUICK) console.log(markdown)
writeSection('Monitor cost (issue 12)', markdown, { quick: QUICK })
process.exit(0)
