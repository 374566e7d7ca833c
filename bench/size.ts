// `bun bench/size.ts [--target NAME]...`: binary size per target, leither vs an empty Bun program → bench/RESULTS.md.
import { rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { hostTarget, TARGETS, xzSize } from '../builds/build.ts'
import { buildLeither, buildSnippet, WORK_DIR } from './bins.ts'
import { machineLine, mb, table, writeSection } from './results.ts'

/** From the issue: our own code (leither − the bare runtime) may add at most this much. */
const BUDGET = 3e6

interface Row {
  target: string
  bytecode: boolean
  leither: number
  leitherXz?: number
  empty: number
  emptyXz?: number
}

function measure(path: string): { size: number; xz?: number } {
  const size = statSync(path).size
  const xz = xzSize(path)
  rmSync(path, { force: true })
  return { size, xz }
}

const picked = process.argv.flatMap((a, i) => (a === '--target' ? [process.argv[i + 1]] : []))
const targets = picked.length ? TARGETS.filter((t) => picked.includes(t.name)) : TARGETS
const dir = join(WORK_DIR, 'size')
const rows: Row[] = []

for (const t of targets) {
  // The host target in both settings; the others as shipped (no bytecode: builds/build.ts).
  for (const bytecode of t === hostTarget() ? [true, false] : [false]) {
    const started = performance.now()
    process.stderr.write(`${t.name}${bytecode ? ' --bytecode' : ''} … `)
    const l = measure(buildLeither(t, dir, bytecode))
    const e = measure(buildSnippet(t, 'empty', dir, bytecode))
    rows.push({ target: t.name, bytecode, leither: l.size, leitherXz: l.xz, empty: e.size, emptyXz: e.xz })
    process.stderr.write(`${mb(l.size)} vs ${mb(e.size)} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  }
}

const diff = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a - b)
const markdown = [
  machineLine(),
  '',
  '"Empty Bun" is a compiled program whose entry is just `export {}`, built with the same flags',
  '(`--compile --minify`, plus `--bytecode --format=esm` where marked): the runtime floor.',
  `"Our code adds" = leither − empty. Goal: at most ${mb(BUDGET, 0)} (xz: \`xz -6\`).`,
  '',
  table(
    ['target', 'bytecode', 'leither', 'leither xz', 'empty Bun', 'empty xz', 'our code adds', 'adds (xz)', '≤ 3 MB'],
    rows.map((r) => {
      const added = r.leither - r.empty
      return [
        r.target,
        r.bytecode ? 'yes' : 'no',
        mb(r.leither),
        mb(r.leitherXz),
        mb(r.empty),
        mb(r.emptyXz),
        mb(added, 2),
        mb(diff(r.leitherXz, r.emptyXz), 2),
        added <= BUDGET ? 'yes' : '**no**',
      ]
    }),
    'llrrrrrrl',
  ),
  '',
  'Sizes in MB = 10⁶ bytes. Exact bytes:',
  '',
  '```',
  ...rows.map((r) => `${r.target}${r.bytecode ? '' : ' (no bytecode)'}: leither ${r.leither} (xz ${r.leitherXz ?? 'n/a'}), empty ${r.empty} (xz ${r.emptyXz ?? 'n/a'})`),
  '```',
].join('\n')

console.log(markdown)
if (!picked.length) writeSection('Binary size', markdown)
else console.error('(a --target subset is not written to bench/RESULTS.md)')
