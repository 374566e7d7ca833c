// `bun bench/db.ts [--quick] [--seconds N] [--file-mb N]`: MiMei database ops/s (RPC, in-process, transactions) vs redis-server, and file throughput vs dd → bench/RESULTS.md.
//
// Database: Hset / Hget / Zadd / Zrangebyscore on one database MiMei, keys spread over 10k hash
// fields and 10k sorted-set members, small values. Three ways in one run:
//   * over RPC: our node as its own process (`bun runtime/main.ts run`, from source), one WebSocket
//     to /ws/ with `<4-byte BE id><hprose request>` frames and 64 calls in flight;
//   * in-process: a kernel booted in this process, `dispatcher.call(name, args, {transport: 'local'})`,
//     one call after another, and 64 concurrent loops;
//   * the anchor: our own redis-server (no persistence) on 127.0.0.1 driven by redis-benchmark with
//     64 connections and the same commands (`-r 10000`, `__rand_int__` as 12-digit numbers, which
//     our requests mirror). Goal: over RPC ≥ 30 % of Redis for every operation.
// Transactions: Begin, N Hset queued, Commit, in-process. Goal ≥ 200k writes/s.
// Files (when the file family is in the syscall table): 1 GiB written in 1 MiB chunks and read back,
// in-process and over WebSocket, next to dd on the same disk. Goal ≥ 50 % of dd; RSS stays flat.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../runtime/config/index.ts'
import { findUserKey, signPassport } from '../runtime/identity/index.ts'
import { Reader, Tag, Writer } from '../runtime/rpc/codec/index.ts'
import { SYSCALL_TABLES } from '../syscalls/index.ts'
import type { TestKernel } from '../test/helpers/kernel.ts'
import { machineLine, table, writeSection } from './results.ts'
import { MAX_TX_OPS } from '../runtime/mimei/db/tx.ts'
import { flag, tempDir, tempDirs, track, withTimeout } from './support.ts'

const ROOT = join(import.meta.dir, '..')
const BUN = process.execPath
const CONCURRENCY = 64
const KEYSPACE = 10_000
const RPC_GOAL = 0.3
const TX_GOAL = 200_000
const FILE_GOAL = 0.5
const START_TIMEOUT_MS = 20_000
/** A measurement that has not finished this long after its deadline is a hang: the bench stops. */
const GRACE_MS = 15_000
const MIB = 1 << 20
const O_RDWR_CREATE = 0x42

// ---- arguments ----
const QUICK = process.argv.includes('--quick')
const SECONDS = Number(flag('seconds') ?? (QUICK ? 0.5 : 2.5))
if (!(SECONDS > 0 && SECONDS <= 60)) throw new Error('--seconds must be a number in (0, 60]')
const RUNS = QUICK ? 1 : 3
const WARMUP_S = QUICK ? 0.3 : 1
/** The most writes one transaction may queue (runtime/mimei/db/tx.ts). */
const TX_WRITES = MAX_TX_OPS
const FILE_MB = Number(flag('file-mb') ?? (QUICK ? 64 : 1024))
if (!(Number.isInteger(FILE_MB) && FILE_MB >= 1 && FILE_MB <= 8192)) throw new Error('--file-mb must be an integer in [1, 8192] (MiB)')

// ---- child processes and temp dirs: none outlives this script ----
const kernels: TestKernel[] = []
/** The test helpers make an empty sandbox HOME in the temp dir when loaded: it goes with ours. */
const homesBefore = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('leither-home-')))
const { bootTest, callLocal, loginPassport } = await import('../test/helpers/kernel.ts')
for (const f of readdirSync(tmpdir())) if (f.startsWith('leither-home-') && !homesBefore.has(f)) tempDirs.push(join(tmpdir(), f))

/** Spawns a long-running process and waits (bounded) until a line of its stdout matches `ready`. */
async function startProcess(cmd: string[], ready: RegExp, cwd = ROOT): Promise<{ proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>; match: RegExpMatchArray }> {
  const proc = track(Bun.spawn(cmd, { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const stderr = new Response(proc.stderr).text()
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  const wait = async () => {
    let buf = ''
    while (true) {
      const m = buf.match(ready)
      if (m) return m
      const { value, done } = await reader.read()
      if (done) throw new Error(`${cmd.join(' ')} exited (code ${await proc.exited}) before it was ready; stdout: ${buf.slice(-500)}; stderr: ${(await stderr).slice(-500)}`)
      buf += decoder.decode(value, { stream: true })
    }
  }
  try {
    const match = await withTimeout(wait(), START_TIMEOUT_MS, `start of ${cmd[0]}`)
    // Keep draining stdout so the child never blocks on a full pipe.
    void (async () => {
      try {
        while (!(await reader.read()).done) {}
      } catch {}
    })()
    return { proc, match }
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
}

async function stopProcess(proc: Bun.Subprocess): Promise<void> {
  proc.kill('SIGTERM')
  await withTimeout(proc.exited, 5000, `exit of pid ${proc.pid}`).catch(() => proc.kill('SIGKILL'))
}

/** CPU time (user + system, all threads) a process has used, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

/** Resident set size of a process, bytes. */
function rssOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096
}

async function freePort(): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as { port: number }).port
        srv.close(() => resolve(port))
      })
    }),
    5000,
    'a free port',
  )
}

/** Runs a command to completion, bounded; returns its output. */
async function runBounded(cmd: string[], ms: number, cwd?: string): Promise<{ code: number; stdout: string; stderr: string; cpuMs: number }> {
  const proc = track(Bun.spawn(cmd, { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' }))
  const out = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  try {
    const [stdout, stderr, code] = await withTimeout(out, ms, cmd.slice(0, 3).join(' '))
    const ru = proc.resourceUsage()
    const cpu = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 : NaN
    return { code, stdout, stderr, cpuMs: cpu }
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
}

// ---- the operation mix ----
/** redis-benchmark's __rand_int__: a 12-digit number below the keyspace. */
const randInt = () => String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0')
const HASH_KEY = 'myhash'
const ZSET_KEY = 'myzset'
const VALUE = 'value'

interface Op {
  name: 'Hset' | 'Hget' | 'Zadd' | 'Zrangebyscore'
  /** Wire arguments after the handle. */
  args: () => unknown[]
  /** Whether a decoded result is what this call must return. */
  ok: (v: unknown) => boolean
  /** The same command for redis-benchmark. */
  redis: string[]
}
const zMembers = (v: unknown) => Array.isArray(v) && v.length === 10 && v.every((p) => p && typeof p === 'object' && 'member' in p && 'score' in p)
const OPS: Op[] = [
  { name: 'Hset', args: () => [HASH_KEY, `field:${randInt()}`, VALUE], ok: (v) => v === 0 || v === 1, redis: ['HSET', HASH_KEY, 'field:__rand_int__', VALUE] },
  { name: 'Hget', args: () => [HASH_KEY, `field:${randInt()}`], ok: (v) => v === VALUE, redis: ['HGET', HASH_KEY, 'field:__rand_int__'] },
  {
    name: 'Zadd',
    args: () => [ZSET_KEY, { score: Number(randInt()), member: `member:${randInt()}` }],
    ok: (v) => v === 0 || v === 1,
    redis: ['ZADD', ZSET_KEY, '__rand_int__', 'member:__rand_int__'],
  },
  { name: 'Zrangebyscore', args: () => [ZSET_KEY, 0, 100, 0, 10], ok: zMembers, redis: ['ZRANGEBYSCORE', ZSET_KEY, '0', '100', 'LIMIT', '0', '10'] },
]

/** Every field and member of the keyspace, so reads hit from the first call (Redis gets the same from its write runs). */
async function preload(call: (name: string, args: unknown[]) => Promise<unknown>, handle: string): Promise<void> {
  for (let from = 0; from < KEYSPACE; from += 1000) {
    const fields: Record<string, string> = {}
    const pairs: { score: number; member: string }[] = []
    for (let i = from; i < from + 1000; i++) {
      const n = String(i).padStart(12, '0')
      fields[`field:${n}`] = VALUE
      pairs.push({ score: i, member: `member:${n}` })
    }
    await call('Hmset', [handle, HASH_KEY, fields])
    await call('Zadd', [handle, ZSET_KEY, ...pairs])
  }
}

// ---- Hprose over WebSocket ----
function encodeRequest(name: string, args: unknown[], id = 0): Uint8Array {
  const w = new Writer().writeRaw(new Uint8Array(4)).writeTag(Tag.Call).writeString(name).reset().write(args).writeTag(Tag.End)
  const bytes = w.toBytes()
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, id)
  return bytes
}

/** The value of an `R…z` reply body, or throws with the `E` text. */
function decodeReply(body: Uint8Array): unknown {
  const r = new Reader(body)
  const tag = r.readTag()
  if (tag === Tag.Error) throw new Error(`RPC error: ${r.readString()}`)
  if (tag !== Tag.Result) throw new Error(`unexpected reply ${JSON.stringify(new TextDecoder().decode(body.subarray(0, 120)))}`)
  return r.readValue()
}

async function openWs(url: string): Promise<WebSocket> {
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
  return ws
}

/** One WebSocket for setup calls and streaming file chunks: call() resolves with the decoded result. */
class WsClient {
  private nextId = 1
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private constructor(private ws: WebSocket) {
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer)
      const id = new DataView(data.buffer, data.byteOffset).getUint32(0)
      const p = this.pending.get(id)
      if (!p) return
      this.pending.delete(id)
      try {
        p.resolve(decodeReply(data.subarray(4)))
      } catch (err) {
        p.reject(err as Error)
      }
    }
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error('WebSocket closed'))
      this.pending.clear()
    }
  }
  static async open(url: string): Promise<WsClient> {
    return new WsClient(await openWs(url))
  }
  call(name: string, args: unknown[], ms = 30_000): Promise<unknown> {
    const id = this.nextId++
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    this.ws.send(encodeRequest(name, args, id))
    return withTimeout(p, ms, `${name} over WebSocket`)
  }
  close(): void {
    this.ws.onclose = null
    this.ws.close()
  }
}

interface LoadResult {
  calls: number
  seconds: number
  serverCpuMs: number
  clientCpuMs: number
}

/**
 * Keeps `inFlight` calls outstanding on one WebSocket for `ms`, each a frame from `pool` (pre-encoded
 * requests with random keys). Every reply must be `R…z`; every 16th is decoded and checked in full.
 */
async function loadWs(url: string, pool: Uint8Array[], ok: (v: unknown) => boolean, inFlight: number, ms: number, serverPid: number): Promise<LoadResult> {
  const ws = await openWs(url)
  const cpu0 = cpuMs(serverPid)
  const client0 = process.cpuUsage()
  const mask = pool.length - 1
  let nextId = 1
  let outstanding = 0
  let calls = 0
  const send = () => {
    const id = nextId++
    const frame = pool[id & mask]!
    new DataView(frame.buffer, frame.byteOffset).setUint32(0, id)
    outstanding++
    ws.send(frame) // copied on send, so the pooled frame is reused
  }
  const started = performance.now()
  const deadline = started + ms
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  ws.onmessage = (ev) => {
    const data = new Uint8Array(ev.data as ArrayBuffer)
    outstanding--
    calls++
    if (data.length < 6 || data[4] !== Tag.Result || data[data.length - 1] !== Tag.End || (calls & 15) === 0) {
      let v: unknown
      try {
        v = decodeReply(data.subarray(4, data[data.length - 1] === Tag.End ? data.length - 1 : data.length))
      } catch (err) {
        reject(err as Error)
        return
      }
      if (!ok(v)) {
        reject(new Error(`unexpected result ${JSON.stringify(v)?.slice(0, 200)}`))
        return
      }
    }
    if (performance.now() < deadline) send()
    else if (outstanding === 0) resolve()
  }
  ws.onclose = (ev) => reject(new Error(`WS ${url} closed: ${ev.code} ${ev.reason}`))
  for (let i = 0; i < inFlight; i++) send()
  try {
    await withTimeout(promise, ms + GRACE_MS, `WebSocket load on ${url}`)
  } finally {
    ws.onclose = null
    ws.onmessage = null
    ws.close()
  }
  const seconds = (performance.now() - started) / 1000
  const client = process.cpuUsage(client0)
  return { calls, seconds, serverCpuMs: cpuMs(serverPid) - cpu0, clientCpuMs: (client.user + client.system) / 1000 }
}

// ---- redis ----
interface RedisRun {
  rate: number
  p50: number
  serverCpuUs: number
  clientCore: number
}
async function redisBench(port: number, pid: number, op: Op, requests: number): Promise<RedisRun> {
  const cmd = ['redis-benchmark', '-h', '127.0.0.1', '-p', String(port), '-c', String(CONCURRENCY), '-n', String(requests), '-r', String(KEYSPACE), '-q', ...op.redis]
  const cpu0 = cpuMs(pid)
  const t0 = performance.now()
  const r = await runBounded(cmd, 60_000 + requests / 5, undefined)
  const wall = (performance.now() - t0) / 1000
  const text = r.stdout.replaceAll('\r', '\n')
  const m = [...text.matchAll(/([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/g)].at(-1)
  if (r.code !== 0 || !m) throw new Error(`redis-benchmark failed (code ${r.code}): ${text.slice(-300)} ${r.stderr.slice(-300)}`)
  return { rate: Number(m[1]), p50: Number(m[2] ?? NaN), serverCpuUs: ((cpuMs(pid) - cpu0) * 1000) / requests, clientCore: r.cpuMs / 1000 / wall }
}

// ---- statistics and formatting ----
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const k = (n: number) => (!Number.isFinite(n) ? 'n/a' : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0))
const pct = (n: number) => `${(n * 100).toFixed(0)} %`
const yes = (ok: boolean) => (ok ? 'yes' : '**no**')
const log = (s: string) => process.stderr.write(s)

const benchStart = performance.now()
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!
const loadAtStart = loadAvg()
const nodeDataDir = tempDir('leither-bench-db-node-')
const nodeMain = [BUN, join(ROOT, 'runtime/main.ts')]
/** Without the network when the node has it: peers found on the LAN (other nodes on this machine) would share its CPU. */
const OFFLINE = Bun.spawnSync([...nodeMain, 'run', '--help'], { cwd: ROOT }).stdout.toString().includes('--offline')
const nodeCmd = [...nodeMain, 'run', '--data', nodeDataDir, '--port', '0', '--p2p-port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...(OFFLINE ? ['--offline'] : [])]

// =====================================================================================
// Part 1a: over RPC, next to redis-server
// =====================================================================================
log('starting the node and redis-server … ')
const node = await startProcess(nodeCmd, /^ready (http:\/\/\S+)$/m)
const nodeUrl = node.match[1]!
const wsUrl = `${nodeUrl.replace(/^http/, 'ws')}/ws/`
const redisDir = tempDir('leither-bench-redis-')
const redisPort = await freePort()
const redisVersion = Bun.spawnSync(['redis-server', '--version']).stdout.toString().match(/v=(\S+)/)?.[1] ?? 'unknown'
const redis = await startProcess(
  ['redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir, '--daemonize', 'no'],
  /Ready to accept connections/,
  redisDir,
)
log('ready\n')

const client = await WsClient.open(wsUrl)
const nodeId = (await client.call('GetVar', ['', 'nodeid'])) as string
const owner = loadConfig(nodeDataDir).config.owner
const ownerKey = findUserKey(nodeDataDir, owner, () => {})
const { sid } = (await client.call('Login', [signPassport(ownerKey, { audience: nodeId, data: { CertFor: 'Self' }, ttl: 3600 })])) as { sid: string }
const rpcMid = (await client.call('MMCreate', [sid, 'bench', 'db', 'rpc', 2, 0])) as string
const rpcHandle = (await client.call('MMOpen', [sid, rpcMid, 'cur'])) as string
await preload((name, args) => client.call(name, args), rpcHandle)

interface RpcLine {
  op: Op
  ours: number[]
  oursCpuUs: number[]
  oursClientCore: number[]
  redis: number[]
  redisCpuUs: number[]
  redisClientCore: number[]
  redisP50: number[]
}
const rpcLines: RpcLine[] = []
for (const op of OPS) {
  const pool = Array.from({ length: 1 << 14 }, () => encodeRequest(op.name, [rpcHandle, ...op.args()]))
  const line: RpcLine = { op, ours: [], oursCpuUs: [], oursClientCore: [], redis: [], redisCpuUs: [], redisClientCore: [], redisP50: [] }
  log(`\r${op.name.padEnd(14)} warm-up${' '.repeat(20)}`)
  await loadWs(wsUrl, pool, op.ok, CONCURRENCY, WARMUP_S * 1000, node.proc.pid)
  // Redis warm-up doubles as calibration: later runs take about SECONDS each.
  const calib = await redisBench(redisPort, redis.proc.pid, op, QUICK ? 20_000 : 100_000)
  const requests = Math.max(10_000, Math.round((calib.rate * SECONDS) / 1000) * 1000)
  for (let i = 0; i < RUNS; i++) {
    log(`\r${op.name.padEnd(14)} run ${i + 1}/${RUNS} ours ${' '.repeat(10)}`)
    const r = await loadWs(wsUrl, pool, op.ok, CONCURRENCY, SECONDS * 1000, node.proc.pid)
    line.ours.push(r.calls / r.seconds)
    line.oursCpuUs.push((r.serverCpuMs * 1000) / r.calls)
    line.oursClientCore.push(r.clientCpuMs / (r.seconds * 1000))
    Bun.gc(true)
    log(`\r${op.name.padEnd(14)} run ${i + 1}/${RUNS} redis${' '.repeat(10)}`)
    const rr = await redisBench(redisPort, redis.proc.pid, op, requests)
    line.redis.push(rr.rate)
    line.redisCpuUs.push(rr.serverCpuUs)
    line.redisClientCore.push(rr.clientCore)
    line.redisP50.push(rr.p50)
  }
  rpcLines.push(line)
}
log(`\rRPC and Redis measured${' '.repeat(30)}\n`)
await stopProcess(redis.proc)

// =====================================================================================
// Part 3a: files over WebSocket (the node process), while it is up
// =====================================================================================
interface FileRun {
  where: string
  writeMBs: number
  readMBs: number
  rssBefore: number
  /** RSS after a quarter of the file was written, and after all of it. */
  rssQuarter: number
  rssWritten: number
  rssPeak: number
}
const fileRuns: FileRun[] = []
let fileNote = ''

function pattern(chunk: Uint8Array, i: number): Uint8Array {
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  for (let at = 0; at < chunk.length; at += 4096) v.setUint32(at, i * 256 + (at >>> 12))
  return chunk
}
function checkChunk(data: unknown, i: number): void {
  if (!(data instanceof Uint8Array) || data.length !== MIB) throw new Error(`chunk ${i}: read ${data instanceof Uint8Array ? data.length : typeof data} bytes, expected ${MIB}`)
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
  for (let at = 0; at < MIB; at += 4096) if (v.getUint32(at) !== ((i * 256 + (at >>> 12)) >>> 0)) throw new Error(`chunk ${i}: wrong content at ${at}`)
}

/** Writes FILE_MB MiB in 1 MiB chunks and reads them back through `call`; rss() is sampled after every chunk. */
async function fileThroughput(where: string, call: (name: string, args: unknown[]) => Promise<unknown>, sidFor: (name: string) => unknown[], sessionSid: string, rss: () => number): Promise<FileRun> {
  const mid = (await call('MMCreate', [sessionSid, 'bench', 'file', `${where}-${Date.now()}`, 1, 0])) as string
  const mm = (await call('MMOpen', [sessionSid, mid, 'cur'])) as string
  const fsid = await call('MFOpenByPath', [sessionSid, mm, '/bench.bin', O_RDWR_CREATE])
  const chunk = new Uint8Array(MIB)
  const deadline = performance.now() + 180_000
  Bun.gc(true)
  const rssBefore = rss()
  let rssPeak = rssBefore
  let rssQuarter = rssBefore
  let t0 = performance.now()
  for (let i = 0; i < FILE_MB; i++) {
    const n = await call('MFSetData', [...sidFor('MFSetData'), fsid, pattern(chunk, i), i * MIB])
    if (n !== MIB) throw new Error(`${where}: MFSetData wrote ${JSON.stringify(n)} bytes, expected ${MIB}`)
    const r = rss()
    if (r > rssPeak) rssPeak = r
    if (i + 1 === Math.ceil(FILE_MB / 4)) rssQuarter = r
    if (performance.now() > deadline) throw new Error(`${where}: writing ${FILE_MB} MiB took over 180 s`)
  }
  const writeS = (performance.now() - t0) / 1000
  const rssWritten = rss()
  t0 = performance.now()
  for (let i = 0; i < FILE_MB; i++) {
    checkChunk(await call('MFGetData', [...sidFor('MFGetData'), fsid, i * MIB, MIB]), i)
    const r = rss()
    if (r > rssPeak) rssPeak = r
    if (performance.now() > deadline + 180_000) throw new Error(`${where}: reading ${FILE_MB} MiB took over 180 s`)
  }
  const readS = (performance.now() - t0) / 1000
  await call('MFClose', [...sidFor('MFClose'), fsid])
  const bytes = FILE_MB * MIB
  return { where, writeMBs: bytes / 1e6 / writeS, readMBs: bytes / 1e6 / readS, rssBefore, rssQuarter, rssWritten, rssPeak }
}

/** A row of the syscall table the node process runs (the same source tree). */
const tableRow = (name: string) => SYSCALL_TABLES.flat().find((r) => r.name.toLowerCase() === name.toLowerCase())
const wsFiles = !!tableRow('MFOpenByPath') && ((await client.call('~', [])) as string[]).some((n) => n.toLowerCase() === 'mfopenbypath')
if (wsFiles) {
  log(`files over WebSocket: ${FILE_MB} MiB … `)
  fileRuns.push(await fileThroughput('RPC (WebSocket)', (n, a) => client.call(n, a, 60_000), (n) => (tableRow(n)?.sid ? [sid] : []), sid, () => rssOf(node.proc.pid)))
  log('done\n')
}
client.close()
await stopProcess(node.proc)

// =====================================================================================
// Part 1b and 2: in-process through the syscall layer
// =====================================================================================
log('booting a kernel in-process … ')
const kernel = await bootTest()
kernels.push(kernel)
tempDirs.push(kernel.dataDir) // removed by its dispose; also if the bench stops early
const M = { transport: 'local' } as const
const d = kernel.dispatcher
const local = (name: string, args: unknown[]) => d.call(name, args, M)
const { sid: localSid } = (await callLocal(kernel, 'Login', loginPassport(kernel))) as { sid: string }
const localMid = (await local('MMCreate', [localSid, 'bench', 'db', 'local', 2, 0])) as string
const h = (await local('MMOpen', [localSid, localMid, 'cur'])) as string
await preload(local, h)
log('ready\n')

/** Pre-built argument lists, so the loop measures the call and not the random keys. */
function argPool(op: Op, handle: string): unknown[][] {
  return Array.from({ length: 1 << 14 }, () => [handle, ...op.args()])
}
async function inProcess(op: Op, workers: number, ms: number): Promise<number> {
  const pool = argPool(op, h)
  const mask = pool.length - 1
  let calls = 0
  const started = performance.now()
  const deadline = started + ms
  const worker = async (w: number) => {
    let i = w * 997
    while (true) {
      // Checks the clock and the full result every 64 calls.
      for (let j = 0; j < 64; j++) {
        const v = await d.call(op.name, pool[i++ & mask]!, M)
        if (j === 0 && !op.ok(v)) throw new Error(`${op.name}: unexpected result ${JSON.stringify(v)?.slice(0, 200)}`)
      }
      calls += 64
      if (performance.now() >= deadline) return
    }
  }
  await withTimeout(Promise.all(Array.from({ length: workers }, (_, w) => worker(w))), ms + GRACE_MS, `in-process ${op.name}`)
  return calls / ((performance.now() - started) / 1000)
}

const localLines: { op: Op; seq: number[]; conc: number[] }[] = []
for (const op of OPS) {
  const line = { op, seq: [] as number[], conc: [] as number[] }
  log(`\rin-process ${op.name.padEnd(14)}`)
  await inProcess(op, 1, WARMUP_S * 500)
  for (let i = 0; i < RUNS; i++) {
    line.seq.push(await inProcess(op, 1, SECONDS * 500))
    line.conc.push(await inProcess(op, CONCURRENCY, SECONDS * 500))
  }
  localLines.push(line)
}
log(`\rin-process measured${' '.repeat(20)}\n`)

// Transactions: Begin, TX_WRITES Hset queued one after another, Commit.
interface TxRun {
  queueS: number
  commitS: number
  totalS: number
}
const txRuns: TxRun[] = []
{
  const fields = Array.from({ length: 1 << 14 }, () => `field:${randInt()}`)
  const mask = fields.length - 1
  for (let r = 0; r < RUNS + 1; r++) {
    log(`\rtransaction ${r === 0 ? 'warm-up' : `run ${r}/${RUNS}`}   `)
    const n = r === 0 ? Math.min(TX_WRITES, 20_000) : TX_WRITES
    const t0 = performance.now()
    if ((await d.call('Begin', [h, 600], M)) !== true) throw new Error('Begin failed')
    for (let i = 0; i < n; i++) {
      const v = await d.call('Hset', [h, 'txhash', fields[i & mask]!, VALUE], M)
      if (v !== 'QUEUED') throw new Error(`Hset inside a transaction answered ${JSON.stringify(v)}`)
    }
    const t1 = performance.now()
    const results = (await d.call('Commit', [h], M)) as unknown[]
    const t2 = performance.now()
    if (!Array.isArray(results) || results.length !== n) throw new Error(`Commit returned ${Array.isArray(results) ? results.length : typeof results} results, expected ${n}`)
    if (r > 0) txRuns.push({ queueS: (t1 - t0) / 1000, commitS: (t2 - t1) / 1000, totalS: (t2 - t0) / 1000 })
    Bun.gc(true)
  }
  const used = new Set(fields.slice(0, Math.min(TX_WRITES, fields.length))).size
  const len = (await d.call('Hlen', [h, 'txhash'], M)) as number
  if (len !== used) throw new Error(`txhash holds ${len} fields after the commits, expected ${used}`)
}
log(`\rtransactions measured${' '.repeat(10)}\n`)

// =====================================================================================
// Part 3b: files in-process, next to dd on the same disk
// =====================================================================================
interface DdResult {
  label: string
  mbs: number
}
const ddRuns: DdResult[] = []
const localFiles = !!d.row('MFOpenByPath')
let diskLine = ''
{
  const ddDir = tempDir('leither-bench-dd-')
  const dev = (dir: string) => Bun.spawnSync(['df', '-P', dir]).stdout.toString().trim().split('\n').at(-1)?.split(/\s+/) ?? []
  const ddDev = dev(ddDir)
  const dataDev = dev(kernel.dataDir)
  diskLine = `dd wrote to ${ddDir.replace(/leither-bench-dd-.*/, '…')} and the node's data dir is under ${kernel.dataDir.replace(/leither-test-.*/, '…')}: \`df\` shows ${ddDev[0]} (mounted on ${ddDev[5]}) for dd and ${dataDev[0]} (on ${dataDev[5]}) for the data dir${ddDev[0] === dataDev[0] ? ', the same disk' : ' — **not the same disk**'}.`
  const f = join(ddDir, 'f')
  const dd = async (label: string, args: string[]) => {
    const r = await runBounded(['dd', ...args], 120_000)
    const m = r.stderr.match(/^(\d+) bytes .* copied, ([\d.]+) s/m)
    if (r.code !== 0 || !m) throw new Error(`dd ${args.join(' ')} failed: ${r.stderr}`)
    ddRuns.push({ label, mbs: Number(m[1]) / 1e6 / Number(m[2]) })
  }
  log('dd … ')
  for (let i = 0; i < RUNS; i++) {
    await dd('write, conv=fdatasync', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${FILE_MB}`, 'conv=fdatasync'])
    await dd('write, no sync', ['if=/dev/zero', `of=${f}`, 'bs=1M', `count=${FILE_MB}`])
    await dd('read (page cache warm)', [`if=${f}`, 'of=/dev/null', 'bs=1M'])
  }
  rmSync(f, { force: true })
  log('done\n')
}
if (localFiles) {
  log(`files in-process: ${FILE_MB} MiB … `)
  const sidFor = (name: string) => (d.row(name)?.sid ? [localSid] : [])
  fileRuns.push(await fileThroughput('in-process (syscall layer)', local, sidFor, localSid, () => process.memoryUsage.rss()))
  log('done\n')
} else {
  fileNote = 'The file family (MFOpenByPath, MFSetData, MFGetData, MFClose) is not in the syscall table of this tree yet: the file throughput was not measured; the dd anchor below was.'
}

for (const kk of kernels) await kk[Symbol.asyncDispose]()
const totalS = (performance.now() - benchStart) / 1000
const loadLine = `Load average (1 min) at start / end of the run: ${loadAtStart} / ${loadAvg()} on ${Bun.spawnSync(['nproc']).stdout.toString().trim()} cores (other work on the machine shares them).`

// =====================================================================================
// Report
// =====================================================================================
const date = new Date().toISOString().slice(0, 10)
const rpcRows = rpcLines.map((l) => {
  const ours = median(l.ours)
  const red = median(l.redis)
  const ratio = ours / red
  return {
    ok: ratio >= RPC_GOAL,
    cells: [
      l.op.name,
      k(ours),
      k(red),
      pct(ratio),
      `${median(l.oursCpuUs).toFixed(1)} / ${median(l.redisCpuUs).toFixed(1)}`,
      `${pct(median(l.oursClientCore))} / ${pct(median(l.redisClientCore))}`,
      yes(ratio >= RPC_GOAL),
    ],
  }
})
const localRows = localLines.map((l) => {
  const rpc = rpcLines.find((r) => r.op === l.op)!
  return [l.op.name, k(median(l.seq)), k(median(l.conc)), k(median(rpc.ours)), k(median(rpc.redis))]
})
const plainSeq = median(localLines.find((l) => l.op.name === 'Hset')!.seq)
const plainConc = median(localLines.find((l) => l.op.name === 'Hset')!.conc)
const txTotal = median(txRuns.map((r) => TX_WRITES / r.totalS))
const txCommit = median(txRuns.map((r) => TX_WRITES / r.commitS))
const txQueueUs = median(txRuns.map((r) => (r.queueS * 1e6) / TX_WRITES))
const txCommitUs = median(txRuns.map((r) => (r.commitS * 1e6) / TX_WRITES))
const rpcOk = rpcRows.every((r) => r.ok)
const txOk = txTotal >= TX_GOAL

const runsText = [
  ...rpcLines.map((l) => `RPC ${l.op.name}: ours ${l.ours.map(k).join(', ')}; redis ${l.redis.map(k).join(', ')} (redis-benchmark p50 ${l.redisP50.map((x) => x.toFixed(3)).join(', ')} ms)`),
  ...localLines.map((l) => `in-process ${l.op.name}: sequential ${l.seq.map(k).join(', ')}; ${CONCURRENCY} concurrent ${l.conc.map(k).join(', ')}`),
  ...txRuns.map((r, i) => `transaction run ${i + 1}: queue ${(r.queueS * 1000).toFixed(0)} ms, commit ${(r.commitS * 1000).toFixed(0)} ms, ${k(TX_WRITES / r.totalS)} writes/s`),
].join('\n')

const dbMarkdown = [
  machineLine(),
  `Commit ${process.env.LEITHER_BENCH_COMMIT || Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: ROOT }).stdout.toString().trim() || 'unknown'}. redis-server ${redisVersion} as the anchor, in the same run. Whole bench (database and file parts): ${totalS.toFixed(0)} s${QUICK ? ' (--quick: a smoke run, not a measurement)' : ''}.`,
  loadLine,
  '',
  `Over RPC (${CONCURRENCY} in flight) next to Redis (${CONCURRENCY} connections), operations/s:`,
  '',
  table(['operation', 'ours over RPC', 'redis-server', 'ours / redis', 'server CPU µs/op ours / redis', 'load generator CPU ours / redis-benchmark', `≥ ${pct(RPC_GOAL)}`], rpcRows.map((r) => r.cells), 'lrrrrrl'),
  '',
  'In-process, through the syscall layer (`dispatcher.call`, no transport), operations/s:',
  '',
  table(['operation', 'sequential', `${CONCURRENCY} concurrent`, 'ours over RPC', 'redis-server'], localRows, 'lrrrr'),
  '',
  `Transaction batch in-process: Begin, ${TX_WRITES.toLocaleString('en-US')} Hset queued one after another, Commit (median of ${RUNS}):`,
  '',
  table(
    ['what', 'writes/s', 'µs/write', `goal ≥ ${k(TX_GOAL)}`],
    [
      ['Begin → last Commit, end to end', k(txTotal), (1e6 / txTotal).toFixed(2), yes(txOk)],
      ['  of which queueing (Hset → "QUEUED")', '', txQueueUs.toFixed(2), ''],
      ['  of which Commit (applying the writes)', k(txCommit), txCommitUs.toFixed(2), ''],
      ['plain writes, no transaction, sequential', k(plainSeq), (1e6 / plainSeq).toFixed(2), ''],
      [`plain writes, no transaction, ${CONCURRENCY} concurrent`, k(plainConc), (1e6 / plainConc).toFixed(2), ''],
    ],
    'lrrl',
  ),
  '',
  `Goal (over RPC ≥ ${pct(RPC_GOAL)} of Redis for every operation): ${rpcOk ? 'met' : '**missed**'}` +
    (rpcOk ? '.' : ` (${rpcRows.filter((r) => !r.ok).map((r) => r.cells[0]).join(', ')}).`) +
    ` Goal (transaction batch ≥ ${k(TX_GOAL)} writes/s in-process): ${txOk ? 'met' : '**missed**'}.`,
  '',
  'Method:',
  `* One database MiMei; Hset/Hget on one hash of ${KEYSPACE / 1000}k fields (\`field:<12 digits>\`, value \`"value"\`), Zadd on one sorted set of`,
  `  ${KEYSPACE / 1000}k members (\`member:<12 digits>\`, random score 0..9999), Zrangebyscore(0, 100, offset 0, count 10) returning 10 members.`,
  '  All fields and members are written before the first run, so every Hget hits. Writes are committed as the node commits',
  '  them: in groups, one SQLite transaction (WAL, synchronous=NORMAL) per turn of the event loop, each answered after it.',
  `* Ours over RPC: \`bun runtime/main.ts run${OFFLINE ? ' --offline' : ''}\` (from source) as its own process${OFFLINE ? ' (no p2p: other nodes on the machine would be found and share its CPU)' : ''};`,
  '  one WebSocket to /ws/, `<4-byte BE id><request>`',
  `  frames drawn from 16k pre-encoded requests with random keys, ${CONCURRENCY} outstanding (a new call as each reply arrives); every`,
  '  reply checked to be `R…z`, every 16th decoded and checked (0/1, "value", 10 members).',
  `* Redis: \`redis-server --save '' --appendonly no\` on 127.0.0.1 in a temp dir, \`redis-benchmark -c ${CONCURRENCY} -n N -r ${KEYSPACE} -q\` with`,
  `  ${OPS.map((o) => `\`${o.redis.join(' ')}\``).join(', ')}; N is set from a calibration run so a run takes about ${SECONDS} s.`,
  `* Each operation: ${WARMUP_S} s warm-up, then ${RUNS} runs of ${SECONDS} s, ours and Redis interleaved; the median run is shown.`,
  '  Server CPU µs/op: user+system time of the server process (/proc/PID/stat) over the run / operations. Load generator CPU:',
  '  the WebSocket client (this Bun process) or redis-benchmark, as a share of one core. The machine has 2 cores, shared by',
  '  server and load generator.',
  `* In-process: a kernel booted in this process (test/helpers/kernel.ts), \`dispatcher.call(name, args, {transport: 'local'})\`,`,
  `  one call awaited after another, and ${CONCURRENCY} such loops at once; ${RUNS} runs of ${SECONDS / 2} s each.`,
  '',
  'Runs (operations/s):',
  '',
  '```',
  runsText,
  '```',
].join('\n')

const ddMedian = (label: string) => median(ddRuns.filter((r) => r.label === label).map((r) => r.mbs))
const ddSync = ddMedian('write, conv=fdatasync')
const ddNoSync = ddMedian('write, no sync')
const ddRead = ddMedian('read (page cache warm)')
/** The node writes file bytes in place without fsync (page cache), so dd without sync is the like-for-like write anchor. */
const writeOk = (f: FileRun) => f.writeMBs >= FILE_GOAL * ddNoSync
const readOk = (f: FileRun) => f.readMBs >= FILE_GOAL * ddRead
/** Flat: the last three quarters of the file grew RSS by less than 64 MB (growing with the file would be ~¾ of it). */
const RSS_SLACK = 64e6
const flat = (f: FileRun) => f.rssWritten - f.rssQuarter < RSS_SLACK
const mbText = (n: number) => (n / 1e6).toFixed(0)
const fileRows = fileRuns.map((f) => [
  f.where,
  f.writeMBs.toFixed(0),
  `${pct(f.writeMBs / ddNoSync)} / ${pct(f.writeMBs / ddSync)}`,
  f.readMBs.toFixed(0),
  pct(f.readMBs / ddRead),
  `${mbText(f.rssBefore)} → ${mbText(f.rssQuarter)} → ${mbText(f.rssWritten)} (peak ${mbText(f.rssPeak)})`,
  `write ${yes(writeOk(f))}, read ${yes(readOk(f))}, RSS flat ${yes(flat(f))}`,
])
const fileOk = fileRuns.length > 0 && fileRuns.every((f) => writeOk(f) && readOk(f))
const rssOk = fileRuns.length > 0 && fileRuns.every(flat)
const fileMarkdown = [
  machineLine(),
  `${FILE_MB.toLocaleString('en-US')} MiB written in 1 MiB chunks and read back in 1 MiB chunks; MB = 10⁶ bytes.${QUICK ? ' (--quick: a smoke run, not a measurement)' : ''}`,
  diskLine,
  loadLine,
  '',
  ...(fileNote ? [fileNote, ''] : []),
  table(['dd (anchor, same disk)', 'MB/s (median of ' + RUNS + ')'], [
    [`\`dd if=/dev/zero of=f bs=1M count=${FILE_MB} conv=fdatasync\``, ddSync.toFixed(0)],
    [`\`dd if=/dev/zero of=f bs=1M count=${FILE_MB}\` (no sync)`, ddNoSync.toFixed(0)],
    ['`dd if=f of=/dev/null bs=1M` (right after writing: page cache warm)', ddRead.toFixed(0)],
  ], 'lr'),
  '',
  ...(fileRuns.length
    ? [
        table(
          ['ours', 'write MB/s', 'of dd no sync / fdatasync', 'read MB/s', 'of dd read', 'RSS MB: before → ¼ written → all written (peak incl. read-back)', `≥ ${pct(FILE_GOAL)} of dd`],
          fileRows,
          'lrrrrrl',
        ),
        '',
        `Goal (≥ ${pct(FILE_GOAL)} of dd; writes against dd without sync, since the node writes file bytes in place without fsync; reads against the dd read): ` +
          `${fileOk ? 'met' : '**missed**'}. RSS flat during the write (the last ¾ of the file added < ${mbText(RSS_SLACK)} MB): ${rssOk ? 'yes' : '**no**'}.`,
        '',
      ]
    : []),
  'Method:',
  '* Ours: MMCreate(tp=1) → MMOpen(cur) → MFOpenByPath(sid, handle, "/bench.bin", O_RDWR|O_CREATE = 0x42) → MFSetData(fsid, 1 MiB, offset)',
  '  per chunk → MFGetData(fsid, offset, 1 MiB) per chunk, every chunk checked against the pattern written → MFClose.',
  '  In-process through `dispatcher.call`; over RPC on one WebSocket to the node process, one chunk at a time.',
  '* RSS: the node process (/proc/PID/statm) over WebSocket; this process (it is the node) in-process; sampled after every chunk',
  '  (the in-process figure includes the bench itself and its 1 MiB chunk buffer).',
  '* dd: the same byte count on the same disk. Dropping the page cache needs root, so it was not done: the dd read and our',
  '  reads come from a warm page cache, and measure the read path rather than the disk.',
].join('\n')

console.log(`\n## MiMei database throughput\n\n${dbMarkdown}\n\n## MiMei file throughput\n\n${fileMarkdown}\n`)
// A --quick run is a smoke test: its numbers are printed, not recorded.
if (QUICK) log('--quick: bench/RESULTS.md left as it was\n')
else {
  writeSection('MiMei database throughput', dbMarkdown)
  writeSection('MiMei file throughput', fileMarkdown)
}
if (!wsFiles && !localFiles) log('note: the file family is not in the syscall table yet; the file part measured dd only\n')
process.exit(0)
