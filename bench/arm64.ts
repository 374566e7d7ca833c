// `bun bench/arm64.ts [--rebuild]`: runs builds/smoke-arm64.sh (shipping build, then one without bytecode) → bench/RESULTS.md.
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { TARGETS } from '../builds/build.ts'
import { buildLeither, WORK_DIR } from './bins.ts'
import { machineLine, table, writeSection } from './results.ts'

const RESTARTS = 5
const script = join(import.meta.dir, '..', 'builds', 'smoke-arm64.sh')

interface Smoke {
  code: number
  seconds: number
  verdict: string
  version: string
  cycles: { run: string; readyMs: number; getvar: string; stopMs: number; exit: number }[]
}

async function smoke(args: string[], env: Record<string, string> = {}): Promise<Smoke> {
  const started = performance.now()
  const proc = Bun.spawn(['bash', script, ...args], {
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, RESTARTS: String(RESTARTS), ...env },
  })
  const timer = setTimeout(() => proc.kill('SIGTERM'), 15 * 60_000)
  const out = await new Response(proc.stdout).text()
  const code = await proc.exited
  clearTimeout(timer)
  process.stdout.write(out)
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

const loadBefore = loadavg()[0]
const shipped = await smoke(process.argv.slice(2))
const arm64 = TARGETS.find((t) => t.name === 'linux-arm64')!
process.stderr.write('building linux-arm64 without bytecode for comparison …\n')
const plain = await smoke([], { LEITHER_BIN: buildLeither(arm64, join(WORK_DIR, 'arm64'), false) })

writeSection(
  'linux-arm64 under qemu',
  [
    machineLine(),
    `The machine is shared: 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.`,
    '',
    '`builds/smoke-arm64.sh`: the linux-arm64 binary, copied to a fresh /tmp folder, run under',
    '`qemu-aarch64-static -L /usr/aarch64-linux-gnu` (user-mode emulation: far slower than real arm64 hardware).',
    `One run on a fresh data dir, then ${RESTARTS} restarts on it; each: spawn → ready line, \`GET /getvar?name=ver\`, SIGTERM → exit.`,
    '',
    `Result (builds/out/leither-linux-arm64, --bytecode): **${shipped.verdict}** (script exit ${shipped.code}, ${shipped.seconds.toFixed(0)} s).`,
    '',
    `\`leither version\`: ${shipped.version}`,
    '',
    table(
      ['run', 'spawn → ready ms', 'getvar ver', 'SIGTERM → exit ms', 'exit code'],
      shipped.cycles.map((c) => [c.run, c.readyMs, c.getvar, c.stopMs, c.exit]),
      'lrlrr',
    ),
    '',
    'The same build without bytecode, same script:',
    `${plain.verdict.split(' (')[0]}; ready ${freshMs(plain)} ms on a fresh dir, restart median ${restartMedian(plain)} ms`,
    `(with bytecode: ${freshMs(shipped)} ms, restart median ${restartMedian(shipped)} ms).`,
  ].join('\n'),
)
process.exit(shipped.code || plain.code)
