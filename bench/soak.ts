// `bun bench/soak.ts [--quick] [--clients N] [--seconds S] [--workers W]`: honest WebSocket clients with and without the attacks of issue 8 (defects 1, 4, 6) → bench/RESULTS.md.
//
// Two runs of the same honest load, each against a fresh node set up the same way: the anchor
// (no attacks), then the same with an attacker process running every attack at once. Honest
// clients run in worker processes (bench/soak-honest.ts), the attacker in its own
// (bench/soak-attack.ts); this process samples the node's RSS and probes /getvar every 50 ms.
// A quick run (--quick: 100 clients for 10 s, or any run under 1000 clients or 60 s) is printed, not recorded.
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_CONFIG, loadConfig } from '../runtime/config/index.ts'
import { findUserKey, signPassport } from '../runtime/identity/index.ts'
import { machineLine, table, writeSection } from './results.ts'
import type { AttackResult, AttackSettings } from './soak-attack.ts'
import type { HonestResult, HonestSettings } from './soak-honest.ts'
import { cpuMs, lines, MiB, procStatus, quantile, ROOT, startNode, stopNode, unpackSamples, WsClient, type NodeProc } from './soak-wire.ts'
import { flag, tempDir, track, withTimeout } from './support.ts'

const FULL = { clients: 1000, seconds: 60 }
const QUICK_FLAG = process.argv.includes('--quick')
const CLIENTS = Number(flag('clients') ?? (QUICK_FLAG ? 100 : FULL.clients))
const SECONDS = Number(flag('seconds') ?? (QUICK_FLAG ? 10 : FULL.seconds))
const WORKERS = Number(flag('workers') ?? 2)
if (!(Number.isInteger(CLIENTS) && CLIENTS >= 2 && CLIENTS <= 5000)) throw new Error('--clients must be an integer in [2, 5000]')
if (!(SECONDS > 0 && SECONDS <= 600)) throw new Error('--seconds must be in (0, 600]')
if (!(Number.isInteger(WORKERS) && WORKERS >= 1 && WORKERS <= 8)) throw new Error('--workers must be an integer in [1, 8]')
/** `--only 4b,1`: the attacked run with only these attacks, and no anchor (printed, not recorded). */
const ONLY = flag('only')?.split(',') ?? []
/** The node runs from an export of HEAD (git archive), so edits in progress in the tree are not measured; --worktree runs the tree as it is. */
const WORKTREE = process.argv.includes('--worktree')
const QUICK = QUICK_FLAG || CLIENTS < FULL.clients || SECONDS < FULL.seconds || ONLY.length > 0
const THINK_MS = 200
const USER_SHARE = 0.5
const PUBLIC_KEYS = 200
const PUBLIC_FIELDS = 50
const BIG_VERSIONS = 4
const BIG_MIB = QUICK_FLAG ? 4 : 16
const ATTACK: Omit<AttackSettings, 'url' | 'nodeId' | 'ownerSid' | 'bigMid' | 'bigVersions' | 'publicMid'> = {
  fileBytes: (QUICK_FLAG ? 256 : 1024) * MiB,
  fillSockets: Number(flag('fill-sockets') ?? 4),
  maxBodyBytes: DEFAULT_CONFIG.maxBodyBytes,
  txHandles: Number(flag('tx-handles') ?? 64),
  foreignRate: 50,
  only: ONLY,
}
const SAMPLE_MS = 50
const log = (s: string) => process.stderr.write(s)

const git = (...args: string[]) => Bun.spawnSync(['git', ...args], { cwd: ROOT }).stdout.toString().trim()
const HEAD = git('rev-parse', '--short', 'HEAD')
function exportHead(): string {
  const dir = tempDir('leither-soak-src-')
  const r = Bun.spawnSync(['sh', '-c', `git archive HEAD | tar -x -C "${dir}"`], { cwd: ROOT })
  if (r.exitCode !== 0) throw new Error(`git archive HEAD failed: ${r.stderr.toString()}`)
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}
const NODE_ROOT = WORKTREE ? ROOT : exportHead()

// ---- children ----
interface Child {
  proc: Bun.Subprocess<'pipe', 'pipe', 'inherit'>
  next: () => Promise<Record<string, unknown>>
}
function spawnChild(script: string, settings: unknown): Child {
  const proc = track(Bun.spawn([process.execPath, join(import.meta.dir, script), JSON.stringify(settings)], { cwd: ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' }))
  const it = lines(proc.stdout)
  return {
    proc,
    next: async () => {
      const r = await it.next()
      if (r.done) throw new Error(`${script} exited (code ${await proc.exited}) without answering`)
      return JSON.parse(r.value)
    },
  }
}
const go = (c: Child, ms: number) => {
  c.proc.stdin.write(`${JSON.stringify({ go: ms })}\n`)
  c.proc.stdin.flush()
}

// ---- one run ----
interface Run {
  honest: HonestResult[]
  latencies: Float32Array
  attacks?: AttackResult
  attackerCpuShare?: number
  idleRss: number
  peakRss: number
  rssAt: number[]
  rssAfter: number
  probe: Float32Array
  nodeCpuShare: number
  setupSec: number
}

async function setupNode(node: NodeProc) {
  const c = await WsClient.open(node.url)
  const nodeId = (await c.call('GetVar', ['', 'nodeid'])) as string
  const key = findUserKey(node.dataDir, loadConfig(node.dataDir).config.owner, () => {})
  const { sid } = (await c.call('Login', [signPassport(key, { audience: nodeId, data: { CertFor: 'Self' }, ttl: 3600 })])) as { sid: string }
  const publicMid = (await c.call('MMCreate', [sid, 'soak', 'public', 'p', 2, 1])) as string
  const ph = (await c.call('MMOpen', [sid, publicMid, 'cur'])) as string
  await Promise.all(Array.from({ length: PUBLIC_KEYS }, (_, i) => c.call('Set', [ph, `k${i}`, `public value ${i} `.repeat(6)])))
  await Promise.all(Array.from({ length: PUBLIC_FIELDS }, (_, i) => c.call('Hset', [ph, 'h', `f${i}`, `field ${i}`])))
  // The database whose versions guests open in attack 4a: BIG_MIB of 256 KiB values per version.
  const bigMid = (await c.call('MMCreate', [sid, 'soak', 'big', 'b', 2, 1])) as string
  const bh = (await c.call('MMOpen', [sid, bigMid, 'cur'])) as string
  const bigVersions: number[] = []
  for (let v = 1; v <= BIG_VERSIONS; v++) {
    for (let i = 0; i < BIG_MIB * 4; i++) await c.call('Set', [bh, `k${i}`, new Uint8Array(256 * 1024).map((_, j) => j * 7 + i + v)])
    bigVersions.push(Number(await c.call('MMBackup', [sid, bigMid])))
  }
  await c.call('MMClose', [bh])
  await c.call('MMClose', [ph])
  c.close()
  return { nodeId, ownerSid: sid, publicMid, bigMid, bigVersions }
}

async function run(attacked: boolean): Promise<Run> {
  const t0 = performance.now()
  const node = await startNode({}, NODE_ROOT)
  const pid = node.proc.pid
  try {
    const s = await setupNode(node)
    const base = { url: node.url, nodeId: s.nodeId, ownerSid: s.ownerSid }
    const per = Math.ceil(CLIENTS / WORKERS)
    const workers: Child[] = []
    for (let w = 0, left = CLIENTS; w < WORKERS && left > 0; w++, left -= per) {
      const clients = Math.min(per, left)
      const settings: HonestSettings = { ...base, publicMid: s.publicMid, keys: PUBLIC_KEYS, fields: PUBLIC_FIELDS, clients, users: Math.round(clients * USER_SHARE), thinkMs: THINK_MS, worker: w }
      workers.push(spawnChild('soak-honest.ts', settings))
    }
    const attacker = attacked ? spawnChild('soak-attack.ts', { ...base, ...ATTACK, bigMid: s.bigMid, bigVersions: s.bigVersions, publicMid: s.publicMid } satisfies AttackSettings) : undefined
    for (const c of [...workers, ...(attacker ? [attacker] : [])]) await withTimeout(c.next(), 300_000, 'a child\u2019s setup')
    const setupSec = (performance.now() - t0) / 1000

    // Idle RSS after setup, then the window.
    const idle: number[] = []
    for (let i = 0; i < 20; i++, await Bun.sleep(SAMPLE_MS)) idle.push(procStatus(pid, 'VmRSS'))
    let hwm = true
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
    } catch {
      hwm = false
    }
    let peak = 0
    let sampling = true
    const rssAt: number[] = []
    const start = performance.now()
    const sampler = (async () => {
      for (let next = 10_000; sampling; await Bun.sleep(SAMPLE_MS)) {
        const rss = procStatus(pid, 'VmRSS')
        peak = Math.max(peak, rss)
        if (performance.now() - start >= next) (rssAt.push(rss), (next += 10_000))
      }
    })()
    const probe: number[] = []
    const prober = (async () => {
      while (sampling) {
        const p0 = performance.now()
        const r = await fetch(`${node.url}/getvar?name=ver`).catch((err) => (sampling ? Promise.reject(err) : undefined))
        if (!r) break
        await r.arrayBuffer()
        if (r.status !== 200) throw new Error(`/getvar probe answered ${r.status}`)
        const took = performance.now() - p0
        probe.push(took)
        await Bun.sleep(Math.max(0, SAMPLE_MS - took))
      }
    })()
    const cpu0 = cpuMs(pid)
    for (const c of workers) go(c, SECONDS * 1000)
    if (attacker) go(attacker, SECONDS * 1000)
    const honest = (await Promise.all(workers.map((w) => withTimeout(w.next(), SECONDS * 1000 + 120_000, 'honest results')))).map((m) => m.result as HonestResult)
    const attackerAnswer = attacker ? await withTimeout(attacker.next(), 360_000, 'attack results') : undefined
    const nodeCpuShare = (cpuMs(pid) - cpu0) / (performance.now() - start)
    sampling = false
    await Promise.all([sampler, prober])
    const peakRss = Math.max(peak, hwm ? procStatus(pid, 'VmHWM') : 0)
    // Whatever the attacks left: RSS 5 s after the last of them.
    await Bun.sleep(5000)
    const rssAfter = procStatus(pid, 'VmRSS')
    const latencies = new Float32Array(honest.reduce((n, h) => n + h.calls, 0))
    let at = 0
    for (const h of honest) {
      const xs = unpackSamples(h.samples)
      latencies.set(xs, at)
      at += xs.length
    }
    latencies.sort()
    return {
      honest,
      latencies,
      attacks: attackerAnswer?.result as AttackResult | undefined,
      attackerCpuShare: attackerAnswer?.cpuShare as number | undefined,
      idleRss: idle.sort((a, b) => a - b)[idle.length >> 1]!,
      peakRss,
      rssAt,
      rssAfter,
      probe: new Float32Array(probe).sort(),
      nodeCpuShare,
      setupSec,
    }
  } finally {
    await stopNode(node)
  }
}

// ---- main ----
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
log(`anchor: ${CLIENTS} honest clients, ${SECONDS} s, no attacks … `)
const anchor = ONLY.length ? undefined : await run(false)
log(`done\nattacked: the same, with ${ONLY.length ? `only the attacks ${ONLY.join(', ')}` : 'the attacks of defects 1, 4 and 6'} … `)
const attacked = await run(true)
log('done\n')
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]

// ---- report ----
const f = (n: number) => (Number.isNaN(n) ? 'n/a' : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0))
const mib = (n: number) => (n / MiB).toFixed(0)
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const rows = (
  [
    ['no attacks (anchor)', anchor],
    [ONLY.length ? `only attacks ${ONLY.join(', ')}` : 'attacks of defects 1, 4, 6', attacked],
  ] as const
)
  .filter((x): x is [string, Run] => x[1] !== undefined)
  .map(([label, r]) => {
  const errors = sum(r.honest.map((h) => h.errors))
  return [
    label,
    sum(r.honest.map((h) => h.calls)),
    errors === 0 ? '0' : `**${errors}**`,
    `${f(quantile(r.latencies, 0.5))} / ${f(quantile(r.latencies, 0.99))} / ${f(r.latencies[r.latencies.length - 1] ?? NaN)}`,
    `${f(quantile(r.probe, 0.5))} / ${f(quantile(r.probe, 0.99))} / ${f(r.probe[r.probe.length - 1] ?? NaN)}`,
    mib(r.idleRss),
    mib(r.peakRss),
    r.rssAt.map(mib).join(', '),
    mib(r.rssAfter),
    `${(r.nodeCpuShare * 100).toFixed(0)} %`,
  ]
})
const errorLines = (
  [
    ['anchor', anchor],
    ['attacked', attacked],
  ] as const
).flatMap(([label, r]) => (r?.honest ?? []).flatMap((h) => Object.entries(h.errorTexts).map(([text, n]) => `${label}: ${n} × ${text}`)))
const attackRows = Object.entries(attacked.attacks ?? {}).map(([name, a]) => [
  name,
  a.done,
  Object.entries(a.answers)
    .map(([t, n]) => `${n} × ${t.replace(/\|/g, '/')}`)
    .join('; ') + (a.note ? ` (${a.note})` : ''),
])
const gen = (r: Run) =>
  `${r.honest.length} workers, load-generator CPU ${r.honest.map((h) => `${((h.cpuMs / h.wallMs) * 100).toFixed(0)} %`).join(' / ')} of a core, ` +
  `its own timer lag p99 ${r.honest.map((h) => f(h.lagP99)).join(' / ')} ms, max ${r.honest.map((h) => f(h.lagMax)).join(' / ')} ms`
const changed = git('status', '--porcelain', '--', 'runtime', 'syscalls').split('\n').filter(Boolean).length
const source = WORKTREE
  ? `The node ran from the working tree at commit ${HEAD}${changed ? `, with uncommitted changes in ${changed} files under runtime/ and syscalls/` : ''}.`
  : `The node ran from commit ${HEAD} exactly (an export with git archive).`

const markdown = [
  machineLine(),
  `${source} Load average ${loadBefore} before, ${loadAfter} after.`,
  '',
  table(
    ['run', 'honest calls', 'honest errors', 'honest p50 / p99 / max ms', '/getvar probe p50 / p99 / max ms', 'node RSS after setup MiB', 'peak RSS MiB', 'RSS every 10 s MiB', 'RSS 5 s after MiB', 'node CPU'],
    rows,
    'lrrrrrrrrr',
  ),
  '',
  `Honest errors: ${errorLines.length ? `\n\n\`\`\`\n${errorLines.join('\n')}\n\`\`\`` : 'none.'}`,
  '',
  'What the attacker did during the attacked run, and what the node answered:',
  '',
  table(['attack', 'attempts', 'answers'], attackRows, 'lrl'),
  '',
  'Method:',
  `* \`bun bench/soak.ts\`: two runs, each on a fresh node (\`bun runtime/main.ts run --offline --host 127.0.0.1\`, from source,`,
  '  default config: storage only for the owner and admitted users), set up the same way: a public database (everyone',
  `  reads) of ${PUBLIC_KEYS} keys and a ${PUBLIC_FIELDS}-field hash, and a public database with ${BIG_VERSIONS} numbered versions of ${BIG_MIB} MiB.`,
  `* Honest load: ${CLIENTS} WebSocket clients (/ws/, one socket each), ${USER_SHARE * 100} % users (admitted by the owner with UserAdmit, logged in`,
  '  with their own key, each with its own database) and the rest guests; every client opened its handles in the setup.',
  `  Each calls, one call at a time with a pause of 0–${2 * THINK_MS} ms (uniform) between calls: users GetVar 15 %, Echo 15 %,`,
  '  Get on the public database 20 %, Hget on it 15 %, Set on their own 20 %, Get of what they set 15 %; guests GetVar 25 %,',
  '  Echo 20 %, Get 30 %, Hget 25 %. Every reply is checked (an error reply, a wrong value, a closed socket or no reply',
  '  within 30 s counts as an error). Latency: send → reply, in the client.',
  `* Load generator: ${WORKERS} worker processes (bench/soak-honest.ts). ${anchor ? `Anchor: ${gen(anchor)}. ` : ''}Attacked: ${gen(attacked)}.`,
  `  The attacker process used ${((attacked.attackerCpuShare ?? 0) * 100).toFixed(0)} % of a core.`,
  `* Node: RSS from /proc/PID/status every ${SAMPLE_MS} ms; peak = max of the samples and VmHWM (reset at the start of`,
  '  the window). "After setup" is the median of 1 s before the window; node CPU is its user+system time over the window.',
  `* Event-loop lag: measured from outside, GET /getvar?name=ver one at a time every ${SAMPLE_MS} ms by the bench process (its latency`,
  '  includes the wait in the node\u2019s event loop).',
  `* Attacks (bench/soak-attack.ts, its own process, from the start of the window to its end, all at once; the attacker is a user the owner admitted):`,
  `  1 — a temp file truncated to ${ATTACK.fileBytes / MiB} MiB, one byte made unique, committed with MFTemp2MacFile, in a loop; and a`,
  `  ${ATTACK.fileBytes / MiB} MiB cur file changed by one byte then MMSum of cur, in a loop. 4a — a guest opening the big versions with`,
  `  MMOpen, 30 at once every 200 ms, keeping every handle. 4b flood — one socket sending 256 PullMsg(60), then 8 MiB frames as`,
  `  fast as the socket drains, again on a new socket once closed. 4b fill — ${ATTACK.fillSockets} sockets at once, each with 256 PullMsg(60)`,
  `  and then waiting frames up to exactly its own limit (${(4 * ATTACK.maxBodyBytes) / MiB} MiB), held, refilled on a new socket once closed.`,
  `  4c — up to ${ATTACK.txHandles} handles in turn, each with Begin and 1 MiB Set calls until refused, left open. 6 — about ${ATTACK.foreignRate}`,
  '  requests/s, in turn: POST /webapi/ with Origin http://evil.example, POST /webapi/ and GET /getvar with a foreign Host, and',
  '  the /ws/ upgrade with either. Probe (not counted with the honest clients): every 2 s a new guest socket opens and closes',
  '  a handle on the public database the honest clients read.',
].join('\n')

if (!QUICK) console.log(markdown)
writeSection('Soak: honest clients under the attacks of issue 8', markdown, { quick: QUICK })
process.exit(0)
