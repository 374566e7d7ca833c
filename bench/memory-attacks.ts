// `bun bench/memory-attacks.ts [--quick] [--only a|b|c]`: peak RSS of a node under each memory attack of issue 8 (defect 4), against its own idle RSS → bench/RESULTS.md.
//
// Each attack gets a fresh node (`bun runtime/main.ts run --offline`, its own process and data dir).
// After the attack's setup the node's RSS is sampled for a second: that median is the anchor (idle
// RSS of the same node, same run). Then the peak-RSS counter is reset (/proc/PID/clear_refs, 5),
// the attack runs while RSS is sampled every 10 ms, and the peak is the larger of the samples and
// VmHWM. What the node answered (calls refused, sockets closed) is printed beside the numbers.
//   (a) 30 guest MMOpen of version 1 of a public database MiMei holding 16 MiB;
//   (b) one WebSocket: 256 PullMsg(60), then 60 frames of 8 MiB;
//   (c) Begin on a database handle, then 1 MiB Set calls queued until 256 MiB or the first refusal;
//   (d) a peer's oversized delta: not measured here (it needs a hostile libp2p peer).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../runtime/config/index.ts'
import { findUserKey, signPassport } from '../runtime/identity/index.ts'
import { Reader, Tag, Writer } from '../runtime/rpc/codec/index.ts'
import { machineLine, table, writeSection } from './results.ts'
import { flag, tempDir, track, withTimeout } from './support.ts'

const ROOT = join(import.meta.dir, '..')
/** `--only b`: run one attack at full size (printed, not recorded). */
const ONLY = flag('only')
/** Small sizes: a smoke run of the bench. */
const SMALL = process.argv.includes('--quick')
const QUICK = SMALL || ONLY !== undefined
const MiB = 1024 * 1024
const SAMPLE_MS = 10
const IDLE_MS = 1000

// ---- the node and its memory ----
interface Node {
  proc: Bun.Subprocess
  url: string
  dataDir: string
}

async function startNode(): Promise<Node> {
  const dataDir = tempDir('leither-bench-mem-')
  const cmd = [process.execPath, join(ROOT, 'runtime/main.ts'), 'run', '--data', dataDir, '--port', '0', '--host', '127.0.0.1', '--offline', '--log-level', 'error']
  const proc = track(Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' }))
  const reader = proc.stdout.getReader()
  let text = ''
  while (!text.includes('\n')) {
    const r = await withTimeout(reader.read(), 20_000, 'the ready line')
    if (r.done) throw new Error(`the node exited before its ready line: ${text}`)
    text += new TextDecoder().decode(r.value)
  }
  const url = /^ready (http:\/\/\S+)$/m.exec(text)?.[1]
  if (!url) throw new Error(`unexpected first line: ${text}`)
  return { proc, url, dataDir }
}

async function stopNode(node: Node): Promise<void> {
  node.proc.kill('SIGTERM')
  await withTimeout(node.proc.exited, 6000, 'node exit').catch(() => node.proc.kill('SIGKILL'))
}

const status = (pid: number, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

async function idleRss(pid: number): Promise<number> {
  const samples: number[] = []
  for (const end = performance.now() + IDLE_MS; performance.now() < end; await Bun.sleep(SAMPLE_MS * 5)) samples.push(status(pid, 'VmRSS'))
  return samples.sort((a, b) => a - b)[samples.length >> 1]!
}

/** Runs `attack` while sampling RSS; the peak is the larger of the samples and VmHWM (reset first). */
async function peakDuring<T>(pid: number, attack: () => Promise<T>): Promise<{ peak: number; result: T }> {
  let hwmReset = true
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {
    hwmReset = false
  }
  let peak = 0
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, status(pid, 'VmRSS'))
      await Bun.sleep(SAMPLE_MS)
    }
  })()
  const result = await attack()
  // The last frames may still be in the node's hands: sample a little longer.
  await Bun.sleep(500)
  running = false
  await sampler
  if (hwmReset) peak = Math.max(peak, status(pid, 'VmHWM'))
  return { peak, result }
}

// ---- Hprose over one WebSocket ----
function frame(id: number, name: string, args: unknown[]): Uint8Array {
  const bytes = new Writer().writeRaw(new Uint8Array(4)).writeTag(Tag.Call).writeString(name).reset().write(args).writeTag(Tag.End).toBytes()
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, id)
  return bytes
}

class Client {
  private nextId = 1
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  closed: Promise<CloseEvent>
  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer)
      const p = this.pending.get(new DataView(data.buffer, data.byteOffset).getUint32(0))
      if (!p) return
      this.pending.delete(new DataView(data.buffer, data.byteOffset).getUint32(0))
      const r = new Reader(data.subarray(4))
      const tag = r.readTag()
      if (tag === Tag.Error) p.reject(new Error(r.readString()))
      else p.resolve(r.readValue())
    }
    this.closed = new Promise((resolve) =>
      ws.addEventListener('close', (e) => {
        for (const p of this.pending.values()) p.reject(new Error(`socket closed ${e.code} ${e.reason}`))
        this.pending.clear()
        resolve(e)
      }),
    )
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/`)
    ws.binaryType = 'arraybuffer'
    await withTimeout(new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))), 5000, 'WebSocket open')
    return new Client(ws)
  }
  call(name: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++
    const p = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    this.ws.send(frame(id, name, args))
    return p
  }
  close() {
    this.ws.close()
  }
}

async function ownerSession(node: Node, client: Client): Promise<string> {
  const nodeId = (await client.call('GetVar', '', 'nodeid')) as string
  const key = findUserKey(node.dataDir, loadConfig(node.dataDir).config.owner, () => {})
  return ((await client.call('Login', signPassport(key, { audience: nodeId, data: { CertFor: 'Self' }, ttl: 3600 }))) as { sid: string }).sid
}

/** Counts settled calls: ok, and refused with the first error text. */
async function tally(calls: Promise<unknown>[]): Promise<string> {
  const settled = await Promise.allSettled(calls)
  const failed = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[]
  return `${settled.length - failed.length} ok, ${failed.length} refused${failed.length ? ` (first: ${String(failed[0]!.reason?.message ?? failed[0]!.reason).slice(0, 90)})` : ''}`
}

// ---- the attacks ----
interface Attack {
  label: string
  /** Setup on a fresh node; returns the attack itself, which resolves with what the node answered. */
  prepare(node: Node): Promise<() => Promise<string>>
}

const DB_MIB = SMALL ? 2 : 16
const ATTACKS: Attack[] = [
  {
    label: `(a) 30 guest MMOpen of a public ${DB_MIB} MiB database version`,
    async prepare(node) {
      const owner = await Client.open(node.url)
      const sid = await ownerSession(node, owner)
      const mid = (await owner.call('MMCreate', sid, 'bench', 'mem', 'public', 2, 1)) as string
      const h = (await owner.call('MMOpen', sid, mid, 'cur')) as string
      const value = new Uint8Array(256 * 1024).map((_, i) => i * 7)
      for (let i = 0; i < DB_MIB * 4; i++) await owner.call('Set', h, `k${i}`, value)
      const ver = await owner.call('MMBackup', sid, mid)
      owner.close()
      return async () => {
        const guest = await Client.open(node.url)
        return tally(Array.from({ length: 30 }, () => guest.call('MMOpen', '', mid, ver)))
      }
    },
  },
  {
    label: '(b) one WebSocket: 256 PullMsg(60), then 60 frames of 8 MiB',
    async prepare(node) {
      const setup = await Client.open(node.url)
      const sid = await ownerSession(node, setup)
      setup.close()
      return async () => {
        const c = await Client.open(node.url)
        for (let i = 0; i < 256; i++) c.call('PullMsg', sid, 60).catch(() => {})
        const big = new Uint8Array(8 * MiB + 4)
        let sent = 0
        let closedBy: CloseEvent | undefined
        c.closed.then((e) => (closedBy = e))
        for (; sent < 60 && c.ws.readyState === WebSocket.OPEN; sent++) {
          new DataView(big.buffer).setUint32(0, 100_000 + sent)
          c.ws.send(big)
          // Let the socket drain as a real sender would, so the node sees the frames arrive one by one.
          while (c.ws.bufferedAmount > 16 * MiB && c.ws.readyState === WebSocket.OPEN) await Bun.sleep(1)
        }
        await Promise.race([c.closed, Bun.sleep(2000)])
        const outcome = closedBy ? `closed ${closedBy.code} "${closedBy.reason}"` : 'still open'
        c.close()
        return `${sent} frames sent; socket ${outcome}`
      }
    },
  },
  {
    label: '(c) Begin, then 1 MiB Set calls queued (up to 256 MiB)',
    async prepare(node) {
      const c = await Client.open(node.url)
      const sid = await ownerSession(node, c)
      const mid = (await c.call('MMCreate', sid, 'bench', 'mem', 'tx', 2, 0)) as string
      const h = (await c.call('MMOpen', sid, mid, 'cur')) as string
      return async () => {
        await c.call('Begin', h, 3600)
        const value = new Uint8Array(MiB).map((_, i) => i * 13)
        let queued = 0
        let refusal = ''
        for (; queued < (SMALL ? 32 : 256); queued++) {
          try {
            await c.call('Set', h, `k${queued}`, value)
          } catch (err) {
            refusal = (err as Error).message.slice(0, 90)
            break
          }
        }
        return `${queued} writes queued${refusal ? `; then refused: ${refusal}` : ''}`
      }
    },
  },
]

// ---- run ----
const rows: string[][] = []
for (const attack of ATTACKS) {
  if (ONLY && !attack.label.startsWith(`(${ONLY})`)) continue
  process.stderr.write(`${attack.label} … `)
  const node = await startNode()
  try {
    const run = await attack.prepare(node)
    const idle = await idleRss(node.proc.pid)
    const { peak, result } = await peakDuring(node.proc.pid, () => withTimeout(run(), 120_000, attack.label))
    rows.push([attack.label, (idle / MiB).toFixed(0), (peak / MiB).toFixed(0), `+${((peak - idle) / MiB).toFixed(0)}`, result])
    process.stderr.write(`idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB\n`)
  } finally {
    await stopNode(node)
  }
}
rows.push(['(d) a peer\u2019s oversized delta', 'n/a', 'n/a', 'n/a', 'not measured: needs a hostile libp2p peer'])

const git = (...args: string[]) => Bun.spawnSync(['git', ...args], { cwd: ROOT }).stdout.toString().trim()
const changed = git('status', '--porcelain', '--', 'runtime', 'syscalls').split('\n').filter(Boolean).length
const markdown = [
  machineLine(),
  `Source at commit ${git('rev-parse', '--short', 'HEAD')}${changed ? `, with uncommitted changes in ${changed} files under runtime/ and syscalls/` : ''}.`,
  '',
  table(['attack', 'idle RSS MiB (anchor)', 'peak RSS MiB', 'peak − idle', 'what the node answered'], rows, 'lrrrl'),
  '',
  'Method: `bun bench/memory-attacks.ts`. Each attack runs against a fresh node (`bun runtime/main.ts run --offline`, from',
  'source, default config, its own process and data dir). After the setup (login as the owner, data written) the node\u2019s',
  `RSS is sampled every ${SAMPLE_MS * 5} ms for ${IDLE_MS / 1000} s; the median is the anchor. The peak-RSS counter is then reset`,
  `(\`/proc/PID/clear_refs\`), the attack runs with RSS sampled every ${SAMPLE_MS} ms, and the peak is the larger of the samples`,
  'and VmHWM, including 0.5 s after the attack\u2019s last request. (a) the guest calls go at once over one WebSocket;',
  '(b) frames are sent as fast as the socket drains (client buffer ≤ 16 MiB); (c) calls go one after another.',
].join('\n')
if (!QUICK) console.log(markdown)
writeSection('Memory under attack (issue 8, defect 4)', markdown, { quick: QUICK })
process.exit(0)
