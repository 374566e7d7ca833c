// `bun bench/fuzz-rpc.ts [--count N] [--seed S] [--quick]`: long fuzz of the Hprose RPC handler (mutated and grammar-made requests) → bench/RESULTS.md.
//
// Boots a kernel in-process and feeds its RPC handler (createRpcHandler over the kernel's
// dispatcher, as boot wires it) directly, one request after another; one request in 50 goes
// over the wire instead, to /webapi/ or /ws/ of the same kernel. Three quarters of the requests
// are mutations of a corpus, a quarter are grammar-made calls of real syscalls with hostile
// arguments (test/rpc/fuzz-grammar.ts). Every reply must parse whole with the project's codec; a thrown
// exception, a hang, a rejected promise, an `Internal: …` reply (a handler that crashed) and an
// ERROR log line are failures. Reports requests/s, the slowest request and RSS before, during and after.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { boot } from '../runtime/boot.ts'
import { encode, Guid, withClassName } from '../runtime/rpc/codec/index.ts'
import { createRpcHandler } from '../runtime/rpc/protocol.ts'
import type { Fields, Logger } from '../runtime/log/index.ts'
import { machineLine, table, writeSection } from './results.ts'
import { emptyPool, fillPool, grammarRequest, internalErrors, parseReply } from '../test/rpc/fuzz-grammar.ts'

// ---- arguments ----
function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return undefined
  const v = process.argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`)
  return v
}
const COUNT = Number(flag('count') ?? (process.argv.includes('--quick') ? 20_000 : 500_000))
const SEED = Number(flag('seed') ?? 20261125) >>> 0
/** Whole run bound; a fuzz run that takes longer is reported as a failure. */
const MAX_SECONDS = Number(flag('max-seconds') ?? 900)
/** No reply for this long is a hang. */
const STALL_MS = 10_000
/** RSS growth (after a full GC) beyond this fails the memory check. */
const RSS_GROWTH_LIMIT_MB = 64
if (!(Number.isInteger(COUNT) && COUNT > 0)) throw new Error('--count must be a positive integer')
const QUICK = process.argv.includes('--quick')
/** One request in this many goes over HTTP or WebSocket instead of in-process. */
const WIRE_EVERY = 50
/** Share of grammar-made requests (the rest are mutations); they are slower: some carry megabytes. */
const GRAMMAR_SHARE = 0.25

const tempDirs: string[] = []
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130))

// ---- seeded PRNG (mulberry32) ----
let state = SEED
function rand(): number {
  state = (state + 0x6d2b79f5) | 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = (n: number) => Math.floor(rand() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!

// ---- corpus of valid requests ----
const te = new TextEncoder()
const bytes = (s: string) => te.encode(s)
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
/** `C<name>a…` for one call (no `z`): the method name, then the argument list with its own table. */
const call = (name: string, args: unknown[] | undefined, byref = false) =>
  cat(bytes('C'), encode(name), args ? encode(args) : new Uint8Array(0), bytes(byref ? 't' : ''))
const req = (...calls: Uint8Array[]) => cat(...calls, bytes('z'))

const shared = { k: [1, 2, 3] }
const cyclic: unknown[] = []
cyclic.push(cyclic, 'self')
const VALUES: unknown[] = [
  'hello', '', 'x', 'héllo 你好 😀', 'a'.repeat(300), 0, 7, -1, 123456, 2 ** 31, -(2 ** 40), 2 ** 53 + 2, 3.5, -0.1, 1e21, 1e-7,
  NaN, Infinity, -Infinity, true, false, null, 12345678901234567890n,
  new Uint8Array([0, 1, 2, 34, 255]), new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678)), new Date(2020, 0, 2),
  new Guid('AFA7F4B1-A64D-46FA-886F-ED7FBCE569B6'),
  [1, 'two', 3.5, null, true], [[1, 2], [3, [4, [5]]]], { name: 'Tom', list: [1, 'two'], nested: { k: [] } },
  new Map<unknown, unknown>([[1, 'one'], ['k', [true]]]), [shared, shared, 'dup', 'dup'], cyclic,
  withClassName({ name: 'Tommy', age: 24 }, 'Person'), [withClassName({ a: 1 }, 'A'), withClassName({ a: 2 }, 'A')],
  new Error('sent as arg'),
]
/** Hand-made requests: every value type, the protocol's shapes, syscalls with meaningful arguments. */
const CORPUS: Uint8Array[] = [
  ...VALUES.map((v) => req(call('Echo', [v]))),
  req(call('Echo', VALUES.slice(0, 8))),
  req(call('GetVar', ['', 'ver'])),
  req(call('GetVar', ['', 'now'])),
  req(call('GetVar', ['', 'nodeid'])),
  req(call('GetVar', ['', 'nosuchvar'])),
  req(call('GetVar', [])),
  req(call('SysInfo', [''])),
  req(call('WhoAmI', [''])),
  req(call('MonitorStats', [''])),
  req(call('Verify', ['', 'AAAA', 'message', 'sig'])),
  req(call('VerifyPPT', ['', '{"not":"a passport"}'])),
  req(call('Login', ['{"not":"a passport"}'])),
  req(call('Logout', ['not-a-sid'])),
  req(call('SignPPT', ['', { CertFor: 'Self' }, 10])),
  req(call('NoSuchCall', [1, 2])),
  req(call('~', undefined)),
  req(call('Echo', undefined)),
  req(call('Echo', [[3, 1, 2]], true)),
  req(call('Echo', ['a']), call('GetVar', ['', 'ver']), call('Nope', [])),
  cat(bytes('H'), encode({ simple: true, id: 'abc' }), req(call('Echo', ['with header']))),
  cat(bytes('H'), encode({}), bytes('z')),
  bytes('z'),
  new Uint8Array(0),
]

// ---- mutations ----
const TAGS = '0123456789ildNItfnesubDTgamcorEzCRAFH{}";.+-Z'
const HUGE = ['s999999999"', 'b999999999"', 'a999999999{', 'm999999999{', 'c999999999"', 'o999999999{', 'i99999999999999999999999;', `l${'9'.repeat(5000)};`, 'd1e999999;', 'd-;', 'D99991399T256161.1234567890;', 'T99;', 'g{zz}']
const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf], [0xfe, 0xfe]]
const REFS = ['r999999999;', 'r0;', 'r1;', 'r-1;', 'r;', `r${'9'.repeat(40)};`, 'r4294967296;']

function insertAt(b: Uint8Array, at: number, piece: Uint8Array, removeCount = 0): Uint8Array {
  return cat(b.subarray(0, at), piece, b.subarray(Math.min(b.length, at + removeCount)))
}
const pos = (b: Uint8Array) => int(b.length + 1)

/** A value nested `depth` times inside lists, maps or objects, closed or left open. */
function deep(depth: number): Uint8Array {
  const kind = int(3)
  const open = kind === 0 ? 'a1{' : kind === 1 ? 'm1{s1"k"' : 'o0{'
  const prefix = kind === 2 ? 'c1"A"1{s1"x"}' : ''
  const close = rand() < 0.7 ? '}'.repeat(depth) : ''
  return bytes(`Cs4"Echo"a1{${prefix}${open.repeat(depth)}1${close}}z`)
}

type Mutation = (b: Uint8Array) => Uint8Array
const MUTATIONS: [string, Mutation][] = [
  ['truncate', (b) => b.subarray(0, int(b.length))],
  ['flip byte', (b) => {
    const out = b.slice()
    if (out.length) out[int(out.length)] = int(256)
    return out
  }],
  ['flip bit', (b) => {
    const out = b.slice()
    if (out.length) out[int(out.length)]! ^= 1 << int(8)
    return out
  }],
  ['insert tag', (b) => insertAt(b, pos(b), bytes(TAGS[int(TAGS.length)]!))],
  ['huge length', (b) => {
    // Replace a run of digits (a length or count) with a huge one, or insert a huge value.
    const text = new TextDecoder('latin1').decode(b)
    const digits = [...text.matchAll(/\d+/g)]
    if (digits.length && rand() < 0.5) {
      const d = pick(digits)
      return insertAt(b, d.index!, bytes(pick(['999999999', '4294967296', '99999999999999999999', '0', '1'])), d[0].length)
    }
    return insertAt(b, pos(b), bytes(pick(HUGE)))
  }],
  ['deep nesting', () => deep(pick([10, 100, 511, 512, 513, 1000, 5000, 20000]) + int(3))],
  ['bad utf-8', (b) => {
    const text = new TextDecoder('latin1').decode(b)
    const quote = text.indexOf('"')
    const at = quote >= 0 && rand() < 0.7 ? quote + 1 + int(3) : pos(b)
    return insertAt(b, Math.min(at, b.length), new Uint8Array(pick(BAD_UTF8)), rand() < 0.5 ? 1 : 0)
  }],
  ['huge ref', (b) => insertAt(b, pos(b), bytes(pick(REFS)))],
  ['splice', (b) => {
    const other = pick(ALL)
    return cat(b.subarray(0, pos(b)), other.subarray(int(other.length + 1)))
  }],
  ['repeat slice', (b) => {
    const a = int(b.length + 1)
    const e = Math.min(b.length, a + 1 + int(16))
    return insertAt(b, a, b.subarray(a, e).slice())
  }],
  ['delete slice', (b) => {
    const a = int(b.length + 1)
    return insertAt(b, a, new Uint8Array(0), 1 + int(8))
  }],
  ['random bytes', () => {
    const out = new Uint8Array(int(64))
    for (let i = 0; i < out.length; i++) out[i] = rand() < 0.6 ? TAGS.charCodeAt(int(TAGS.length)) : int(256)
    return out
  }],
]

/** A request: a quarter grammar-made; else 4 % valid as is, otherwise one to three mutations of a corpus entry (hand-made or per-syscall, half each). */
function nextRequest(): { body: Uint8Array; kind: string; calls?: string[] } {
  if (rand() < GRAMMAR_SHARE) {
    const { body, calls } = grammarRequest(rand, pool)
    return { body, kind: 'grammar', calls }
  }
  const base = rand() < 0.5 ? pick(CORPUS) : pick(SYSCALL_CORPUS)
  if (rand() < 0.04) return { body: base, kind: 'valid' }
  let body = base
  const names: string[] = []
  const n = 1 + (rand() < 0.3 ? int(3) : 0)
  for (let i = 0; i < n; i++) {
    const [name, m] = pick(MUTATIONS)
    body = m(body)
    names.push(name)
  }
  return { body, kind: names[0]! }
}

// ---- a logger that counts instead of writing (a million malformed requests would flood the files) ----
const logged = { error: 0, warn: 0, samples: [] as string[] }
function countingLogger(scope: string): Logger {
  const note = (level: 'error' | 'warn', msg: string, fields?: Fields) => {
    logged[level]++
    if (logged.samples.length < 5) logged.samples.push(`${level} [${scope}] ${msg} ${JSON.stringify(fields ?? {}).slice(0, 300)}`)
  }
  return {
    debug() {},
    info() {},
    warn: (msg, fields) => note('warn', msg, fields),
    error: (msg, fields) => note('error', msg, fields),
    child: (s) => countingLogger(`${scope}.${s}`),
    setLevel() {},
    close() {},
  }
}

// ---- run ----
const dataDir = mkdtempSync(join(tmpdir(), 'leither-fuzz-rpc-'))
tempDirs.push(dataDir)
// p2p off: the handler is under test, not the libp2p node (its timers would only add noise).
// Files up to 1 MiB: a fuzzed MFTruncate to gigabytes and MFTemp2MacFile would otherwise spend the run hashing.
const kernel = await boot({ dataDir, overrides: { port: 0, host: '127.0.0.1', logLevel: 'warn', p2p: false, maxFileBytes: 1 << 20 }, logToStderr: false })
const pool = emptyPool()
await fillPool(kernel, pool)
const baseUrl = `http://127.0.0.1:${kernel.http.port}`
const ws = new WebSocket(`ws://127.0.0.1:${kernel.http.port}/ws/`)
ws.binaryType = 'arraybuffer'
await new Promise((resolve, reject) => {
  ws.onopen = resolve
  ws.onerror = reject
})
let wsNext = 1
const wsWaiting = new Map<number, (reply: Uint8Array) => void>()
ws.onmessage = (e) => {
  const data = new Uint8Array(e.data as ArrayBuffer)
  const id = new DataView(data.buffer).getUint32(0)
  wsWaiting.get(id)?.(data.subarray(4))
  wsWaiting.delete(id)
}
ws.onclose = (e) => {
  console.error(`the node closed the fuzz WebSocket (${e.code} ${e.reason})`)
  process.exit(2)
}
/** One request over the wire: POST /webapi/ or a frame on the open /ws/ socket. */
async function overWire(body: Uint8Array, i: number): Promise<Uint8Array> {
  if (i % 2) {
    const r = await fetch(`${baseUrl}/webapi/`, { method: 'POST', body: body as Uint8Array<ArrayBuffer> })
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`)
    return new Uint8Array(await r.arrayBuffer())
  }
  const id = wsNext++
  const frame = new Uint8Array(4 + body.length)
  new DataView(frame.buffer).setUint32(0, id)
  frame.set(body, 4)
  const { promise, resolve } = Promise.withResolvers<Uint8Array>()
  wsWaiting.set(id, resolve)
  ws.send(frame)
  return promise
}
const rpc = createRpcHandler(kernel.dispatcher, countingLogger('rpc'))
// Every syscall with a few argument shapes: as a guest most stop at the session or argument check,
// which is the code a hostile client reaches first.
const SHAPES: unknown[][] = [[], [''], ['', 'x'], ['', 1, 'two', { k: [1] }], ['', new Uint8Array([1, 2]), -1, null]]
const SYSCALL_CORPUS = kernel.dispatcher.names().flatMap((name) => SHAPES.map((args) => req(call(name, args))))
const ALL = [...CORPUS, ...SYSCALL_CORPUS]
const meta = { transport: 'http', remote: '127.0.0.1' } as const

const hex = (b: Uint8Array, max = 120) => {
  const s = new TextDecoder('latin1').decode(b.subarray(0, max))
  return JSON.stringify(s) + (b.length > max ? ` …(${b.length} bytes)` : '')
}

// Sanity: the corpus as is gives R/F replies (E only where the call is meant to fail).
for (const body of ALL) {
  const reply = await rpc.handle(body, meta)
  if (![0x52, 0x45, 0x46].includes(reply[0]!) || reply.at(-1) !== 0x7a) throw new Error(`corpus request ${hex(body)} got ${hex(reply)}`)
}
const echoHello = await rpc.handle(req(call('Echo', ['hello'])), meta)
if (new TextDecoder().decode(echoHello) !== 'Rs5"hello"z') throw new Error(`Echo("hello") replied ${hex(echoHello)}`)

const MB = 1024 * 1024
const memNow = () => process.memoryUsage()
Bun.gc(true)
const before = memNow()
let peakRss = before.rss
const replies = { R: 0, E: 0, F: 0 }
let internal = 0
let wire = 0
const failures: string[] = []
let failureCount = 0
let slowest: { ms: number; body: Uint8Array; kind: string; calls?: string[]; at: number } = { ms: 0, body: new Uint8Array(0), kind: '', at: 0 }
let maxReply = 0
const byKind = new Map<string, number>()
let done = 0
let lastProgress = performance.now()

const fail = (what: string) => {
  failureCount++
  if (failures.length < 10) failures.push(what)
}

// Watchdog: a handler promise that never settles stops the run with the request that hung.
let current: Uint8Array = new Uint8Array(0)
const watchdog = setInterval(() => {
  if (performance.now() - lastProgress > STALL_MS) {
    console.error(`no reply for ${STALL_MS} ms; request ${hex(current, 400)}`)
    process.exit(2)
  }
}, 1000)

const started = performance.now()
const deadline = started + MAX_SECONDS * 1000
let timedOut = false
for (let i = 0; i < COUNT; i++) {
  // Calls log out, close handles and delete MiMei: fresh real values now and then.
  if (i % 1000 === 0) await fillPool(kernel, pool)
  const { body, kind, calls } = nextRequest()
  current = body
  byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
  const t0 = performance.now()
  let reply: Uint8Array
  const viaWire = i % WIRE_EVERY === WIRE_EVERY - 1
  try {
    reply = viaWire ? await overWire(body, i) : await rpc.handle(body, meta)
    if (viaWire) wire++
  } catch (err) {
    fail(`threw ${(err as Error)?.stack ?? String(err)} for ${hex(body)}`)
    continue
  }
  const now = performance.now()
  lastProgress = now
  if (now - t0 > slowest.ms) slowest = { ms: now - t0, body, kind, calls, at: i }
  if (!(reply instanceof Uint8Array) || reply.length < 2) {
    fail(`reply ${String(reply)} for ${hex(body)}`)
    continue
  }
  try {
    const parts = parseReply(reply)
    for (const p of parts) replies[p.tag]++
    const crashed = internalErrors(parts)
    if (crashed.length) {
      internal += crashed.length
      fail(`${crashed[0]} for ${hex(body, 400)}`)
    }
  } catch (err) {
    fail(`malformed reply (${(err as Error).message}) ${hex(reply)} for ${hex(body)}`)
  }
  if (reply.length > maxReply) maxReply = reply.length
  done++
  if ((i & 0x3fff) === 0) {
    const rss = memNow().rss
    if (rss > peakRss) peakRss = rss
    process.stderr.write(`\r${i}/${COUNT} requests, RSS ${(rss / MB).toFixed(0)} MB   `)
    if (now > deadline) {
      timedOut = true
      break
    }
  }
}
const seconds = (performance.now() - started) / 1000
clearInterval(watchdog)
const beforeGc = memNow()
if (beforeGc.rss > peakRss) peakRss = beforeGc.rss
Bun.gc(true)
await Bun.sleep(100)
Bun.gc(true)
const after = memNow()
process.stderr.write('\n')
// The slowest request again, alone: tells a slow input from a GC pause or a busy machine.
let slowestAgainMs = Infinity
for (let i = 0; i < 5; i++) {
  const t0 = performance.now()
  await rpc.handle(slowest.body, meta)
  slowestAgainMs = Math.min(slowestAgainMs, performance.now() - t0)
}
ws.onclose = null
ws.close()
await kernel.stop()
// The kernel's own log (the wire requests went through its handler): ERROR lines are failures too.
const logDir = join(dataDir, 'logs')
const fileErrors = readdirSync(logDir).flatMap((f) => readFileSync(join(logDir, f), 'utf8').split('\n')).filter((l) => / ERROR /.test(l))
for (const line of fileErrors.slice(0, 5 - Math.min(5, logged.samples.length))) logged.samples.push(line.slice(0, 400))

// ---- report ----
const rssGrowthMb = (after.rss - before.rss) / MB
const memoryOk = rssGrowthMb < RSS_GROWTH_LIMIT_MB
const ok = failureCount === 0 && logged.error === 0 && fileErrors.length === 0 && !timedOut && memoryOk
const f1 = (n: number) => (n / MB).toFixed(1)
const markdown = [
  machineLine(),
  '',
  `${done.toLocaleString('en-US')} requests (asked for ${COUNT.toLocaleString('en-US')}, seed ${SEED}) fed one after another to the RPC handler`,
  `(\`createRpcHandler\` over the dispatcher of a kernel booted in-process; ${wire.toLocaleString('en-US')} of them over HTTP /webapi/ and WebSocket /ws/ of the same kernel):`,
  `${Math.round(done / seconds).toLocaleString('en-US')} requests/s over ${seconds.toFixed(1)} s.`,
  '',
  table(
    ['check', 'result'],
    [
      ['results, errors and function lists in replies parsed whole', `${replies.R.toLocaleString('en-US')} R, ${replies.E.toLocaleString('en-US')} E, ${replies.F.toLocaleString('en-US')} F`],
      ['`Internal` replies (handlers that crashed)', internal === 0 ? '0' : `**${internal}**`],
      ['malformed replies, Internal replies or exceptions escaping', failureCount === 0 ? '0' : `**${failureCount}**`],
      ['ERROR lines logged (the bench handler, the kernel log)', `${logged.error}, ${fileErrors.length}${logged.warn ? ` (+${logged.warn} warnings)` : ''}`],
      ['slowest request', `${slowest.ms.toFixed(1)} ms (#${slowest.at}, ${slowest.kind}${slowest.calls ? ` ${slowest.calls.join(', ')}` : ''}, ${slowest.body.length} bytes); alone again: ${(slowestAgainMs * 1000).toFixed(0)} µs (best of 5)`],
      ['largest reply', `${maxReply.toLocaleString('en-US')} bytes`],
      ['RSS before → peak → after GC', `${f1(before.rss)} → ${f1(peakRss)} → ${f1(after.rss)} MB (growth ${rssGrowthMb.toFixed(1)} MB, limit ${RSS_GROWTH_LIMIT_MB} MB: ${memoryOk ? 'bounded' : '**not bounded**'})`],
      ['JS heap used before → after GC', `${f1(before.heapUsed)} → ${f1(after.heapUsed)} MB`],
      ['verdict', ok ? 'pass' : timedOut ? `**stopped at the ${MAX_SECONDS} s bound**` : '**fail**'],
    ],
    'll',
  ),
  '',
  `Method: a corpus of ${ALL.length} valid requests (Echo of every value type incl. bytes, dates, GUID, maps with non-string`,
  'keys, classes, shared and cyclic refs; GetVar, SysInfo, Login, Verify and others with meaningful arguments; every syscall',
  'of the node with five argument shapes; an unknown call, `~`, bare `z`, empty body, batch, byref, `H` header), drawn half',
  'from the hand-made part and half from the per-syscall part; the kernel runs with p2p off. 4 % of requests are sent',
  'as is; the rest get 1–3 mutations: truncation, byte and bit flips, inserted tags, huge lengths/counts (`s999999999"`,',
  '`a999999999{`, 5000-digit `l`), deep nesting (`a1{`, `m1{`, `o0{` × up to 20,000), bad UTF-8, huge or negative refs',
  '(`r999999999;`), splices of two requests, repeated and deleted slices, random bytes. Seeded PRNG (mulberry32), so a',
  'run can be replayed (`--seed`). That is for three quarters of the requests; the other quarter are grammar-made (test/rpc/fuzz-grammar.ts): well-encoded calls',
  'of every syscall in the tables, with real session ids, MiMei ids and handles of the kernel (refreshed every 1,000 requests)',
  'or near misses of them, and hostile arguments: wrong types, boundary numbers, empty and megabyte values, nesting near the',
  "codec's depth limit, cycles, shared references, and a few references to nothing or lengths that lie inside a valid call.",
  'Files are limited to 1 MiB (`maxFileBytes`) so that gigabyte truncations are not spent hashing.',
  '',
  'Requests by first mutation: ' + [...byKind].map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ') + '.',
  ...(failures.length ? ['', 'First failures:', '', '```', ...failures, '```'] : []),
  ...(logged.samples.length ? ['', 'First logged errors:', '', '```', ...logged.samples, '```'] : []),
].join('\n')

if (!QUICK) console.log(markdown)
writeSection('RPC fuzz (long run)', markdown, { quick: QUICK })
process.exit(ok ? 0 : 1)
