// `bun bench/eventloop.ts [--quick] [--file-mb N]`: /getvar latency while one request commits a large
// file (MFTemp2MacFile), next to /getvar on the same idle node in the same run → bench/RESULTS.md.
//
// The node runs as its own process (`bun runtime/main.ts run --offline`, from source). A temp file is
// extended to N MiB (1 GiB by default) with MFTruncate, the attack of issue 8 defect 1, then
// committed while one /getvar loop (one request after the other, keep-alive) measures latency.
// The anchor: the same loop for as long against the idle node, right after. The file is zeros
// but its first byte, which differs each run: every byte is read and hashed, while only two
// blocks are new (the zero chunks are all one block) — the attack's cost, not a disk benchmark.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../runtime/config/index.ts'
import { findUserKey, signPassport } from '../runtime/identity/index.ts'
import { callRemote } from '../runtime/rpc/client.ts'
import { machineLine, table, writeSection } from './results.ts'
import { flag, tempDir, track, withTimeout } from './support.ts'

const ROOT = join(import.meta.dir, '..')
const MIB = 1 << 20
const QUICK = process.argv.includes('--quick')
const FILE_MB = Number(flag('file-mb') ?? (QUICK ? 128 : 1024))
if (!(Number.isInteger(FILE_MB) && FILE_MB >= 1 && FILE_MB <= 4096)) throw new Error('--file-mb must be an integer in [1, 4096] (MiB)')
const RUNS = QUICK ? 1 : 3
const log = (s: string) => process.stderr.write(s)

// ---- the node ----
const dataDir = tempDir('leither-bench-eventloop-')
const proc = track(
  Bun.spawn([process.execPath, join(ROOT, 'runtime/main.ts'), 'run', '--data', dataDir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', '--offline'], {
    cwd: ROOT,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
  }),
)
const url = await withTimeout(
  (async () => {
    let buf = ''
    const decoder = new TextDecoder()
    const reader = proc.stdout.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buf += decoder.decode(r.value, { stream: true })
      const m = buf.match(/^ready (http:\/\/\S+)$/m)
      if (m) {
        // Keep draining stdout so the node never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) {}
        })()
        return m[1]!
      }
    }
    throw new Error(`the node exited before it was ready: ${buf.slice(-500)}`)
  })(),
  20_000,
  'node start',
)
const call = (name: string, ...args: unknown[]) => callRemote(url, name, args, 600_000)
const nodeId = (await call('GetVar', '', 'nodeid')) as string
const ownerKey = findUserKey(dataDir, loadConfig(dataDir).config.owner, () => {})
const { sid } = (await call('Login', signPassport(ownerKey, { audience: nodeId, data: { CertFor: 'Self' }, ttl: 3600 }))) as { sid: string }

// ---- measuring ----
/** /getvar one after another until `until` resolves; latencies in ms. */
async function getvarLoop(until: Promise<unknown>): Promise<number[]> {
  let done = false
  void until.finally(() => (done = true))
  const out: number[] = []
  while (!done) {
    const t = performance.now()
    const r = await fetch(`${url}/getvar?name=ver`)
    await r.arrayBuffer()
    if (r.status !== 200) throw new Error(`/getvar answered ${r.status}`)
    out.push(performance.now() - t)
  }
  return out
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}
const ms = (n: number) => n.toFixed(n < 10 ? 2 : 0)

const idle: number[] = []
const busy: number[] = []
const commits: number[] = []
for (let run = 0; run < RUNS; run++) {
  const fsid = (await call('MFOpenTempFile', sid)) as string
  await call('MFTruncate', fsid, FILE_MB * MIB)
  await call('MFSetData', fsid, new Uint8Array([run + 1]), 0)
  log(`run ${run + 1}/${RUNS}: commit of ${FILE_MB} MiB … `)
  const t0 = performance.now()
  const commit = call('MFTemp2MacFile', fsid)
  busy.push(...(await getvarLoop(commit)))
  const commitMs = performance.now() - t0
  commits.push(commitMs)
  // The anchor: as long again, on the node with nothing else to do.
  idle.push(...(await getvarLoop(Bun.sleep(commitMs))))
  await call('MFClose', fsid)
  log(`${(commitMs / 1000).toFixed(1)} s\n`)
}
proc.kill('SIGTERM')
await withTimeout(proc.exited, 5000, 'node exit').catch(() => proc.kill('SIGKILL'))

const row = (name: string, xs: number[]) => [name, xs.length, ms(quantile(xs, 0.5)), ms(quantile(xs, 0.99)), ms(Math.max(...xs))]
const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
const markdown = [
  `${machineLine()} Load average ${loadAvg} at the end.`,
  '',
  table(['/getvar', 'requests', 'p50 ms', 'p99 ms', 'max ms'], [row('idle node (anchor)', idle), row(`while ${FILE_MB} MiB are committed`, busy)], 'lrrrr'),
  '',
  `Commit of ${FILE_MB} MiB (MFTemp2MacFile: read and hashed whole; the zero chunks are one block): ${commits.map((c) => `${(c / 1000).toFixed(1)} s`).join(', ')}.`,
  '',
  'Method:',
  '* The node: `bun runtime/main.ts run --offline` (from source) as its own process; the client is this script. Files are',
  '  hashed on worker threads (runtime/mimei/hasher.ts); the event loop records the blocks.',
  `* Each run: MFOpenTempFile, MFTruncate to ${FILE_MB} MiB, one byte written at 0 (a different one each run), then`,
  '  MFTemp2MacFile over HTTP while one loop sends GET /getvar?name=ver one after the other (keep-alive) until the commit',
  '  answers. The anchor is the same loop, right after, for as long as that commit took.',
  `* ${RUNS} run${RUNS > 1 ? 's' : ''}; the quantiles are over every request of all runs.`,
].join('\n')
writeSection('Event loop under a large commit', markdown)
console.log(markdown)
