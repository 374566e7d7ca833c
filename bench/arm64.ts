// `bun bench/arm64.ts [--quick]`: builds linux-arm64 from this working tree (the shipping build, and one
// with --bytecode to compare), runs builds/smoke-arm64.sh on each under qemu → bench/RESULTS.md.
// --quick: one restart instead of five, printed, not recorded.
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { TARGETS } from '../builds/build.ts'
import { buildCommit, buildLeither, compileFlags, WORK_DIR } from './bins.ts'
import { machineLine, table, writeSection } from './results.ts'

const QUICK = process.argv.includes('--quick')
const RESTARTS = QUICK ? 1 : 5
const script = join(import.meta.dir, '..', 'builds', 'smoke-arm64.sh')
/** builds/smoke-arm64.sh's exit code when qemu or the arm64 libc is not installed. */
const MISSING_TOOLS = 2

interface Smoke {
  code: number
  seconds: number
  verdict: string
  version: string
  cycles: { run: string; readyMs: number; getvar: string; stopMs: number; exit: number }[]
}

async function smoke(bin: string): Promise<Smoke> {
  const started = performance.now()
  const proc = Bun.spawn(['bash', script], {
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, RESTARTS: String(RESTARTS), LEITHER_BIN: bin },
  })
  const timer = setTimeout(() => proc.kill('SIGTERM'), 15 * 60_000)
  const out = await new Response(proc.stdout).text()
  const code = await proc.exited
  clearTimeout(timer)
  process.stdout.write(out)
  if (code === MISSING_TOOLS) {
    console.error('bench/arm64.ts: qemu or the arm64 libc is missing (scripts/setup installs them); bench/RESULTS.md left as it was')
    process.exit(MISSING_TOOLS)
  }
  const lines = out.trim().split('\n')
  return {
    code,
    seconds: (performance.now() - started) / 1000,
    verdict: lines.find((l) => /^(PASS|FAIL)/.test(l)) ?? `FAIL: exit code ${code}, no verdict line`,
    version: lines.find((l) => l.startsWith('version: '))?.slice('version: '.length) ?? 'n/a',
    cycles: lines.flatMap((l) => {
      const m = l.match(/^(\w+): ready_ms=(\d+) getvar=(\S+) stop_ms=(\d+) exit=(\d+)$/)
      return m ? [{ run: m[1], readyMs: +m[2], getvar: m[3], stopMs: +m[4], exit: +m[5] }] : []
    }),
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN
}
const restartMedian = (s: Smoke) => median(s.cycles.filter((c) => c.run === 'restart').map((c) => c.readyMs))
const freshMs = (s: Smoke) => s.cycles.find((c) => c.run === 'fresh')?.readyMs ?? NaN

const arm64 = TARGETS.find((t) => t.name === 'linux-arm64')!
const commit = buildCommit()
const loadBefore = loadavg()[0]
process.stderr.write(`building linux-arm64 at ${commit}: the shipping build, then one with --bytecode …\n`)
const builds = [
  { label: 'shipping build', bytecode: false, bin: buildLeither(arm64, join(WORK_DIR, 'arm64'), false) },
  { label: 'with --bytecode', bytecode: true, bin: buildLeither(arm64, join(WORK_DIR, 'arm64'), true) },
]
const [shipped, bytecode] = [await smoke(builds[0].bin), await smoke(builds[1].bin)]
/** The binary says which commit it was built from: it must be this tree's. */
const fromHere = (s: Smoke) => s.version.includes(`commit ${commit},`)
for (const [i, s] of [shipped, bytecode].entries()) {
  if (!fromHere(s)) throw new Error(`the ${builds[i].label} reports "${s.version}", not commit ${commit}`)
}

writeSection(
  'linux-arm64 under qemu',
  [
    machineLine(),
    `The machine is shared: 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.`,
    '',
    `Both binaries built by this bench from commit ${commit} (bench/bins.ts buildLeither, the defines of builds/build.ts):`,
    `* shipping build: \`bun build ${compileFlags(arm64, false)}\``,
    `* for comparison: \`bun build ${compileFlags(arm64, true)}\``,
    '',
    '`builds/smoke-arm64.sh` (LEITHER_BIN = each binary): copied to a fresh /tmp folder, run under',
    '`qemu-aarch64-static -L /usr/aarch64-linux-gnu` (user-mode emulation, not arm64 hardware).',
    `One run on a fresh data dir, then ${RESTARTS} restart(s) on it; each: spawn → ready line, \`GET /getvar?name=ver\`, SIGTERM → exit.`,
    '',
    `Shipping build: **${shipped.verdict}** (script exit ${shipped.code}, ${shipped.seconds.toFixed(0)} s).`,
    '',
    `\`leither version\`: ${shipped.version}`,
    '',
    table(
      ['run', 'spawn → ready ms', 'getvar ver', 'SIGTERM → exit ms', 'exit code'],
      shipped.cycles.map((c) => [c.run, c.readyMs, c.getvar, c.stopMs, c.exit]),
      'lrlrr',
    ),
    '',
    'With --bytecode, same script:',
    `${bytecode.verdict.split(' (')[0]}; ready ${freshMs(bytecode)} ms on a fresh dir, restart median ${restartMedian(bytecode)} ms`,
    `(shipping build: ${freshMs(shipped)} ms, restart median ${restartMedian(shipped)} ms).`,
  ].join('\n'),
  { quick: QUICK },
)
process.exit(shipped.code || bytecode.code)
