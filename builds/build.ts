// `npm run build`: compiles leither for every target into builds/out/, with checksums and sizes.
// `--single` builds the host target only; `--target NAME` (repeatable) picks targets by name.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATED } from '../scripts/gen.ts'
import type { CompileJob } from './compile.ts'

/** The one target list. */
export const TARGETS = [
  { name: 'linux-x64', bun: 'bun-linux-x64', os: 'linux', arch: 'x64' },
  { name: 'linux-x64-musl', bun: 'bun-linux-x64-musl', os: 'linux', arch: 'x64', musl: true },
  { name: 'linux-arm64', bun: 'bun-linux-arm64', os: 'linux', arch: 'arm64' },
  { name: 'linux-arm64-musl', bun: 'bun-linux-arm64-musl', os: 'linux', arch: 'arm64', musl: true },
  { name: 'windows-x64', bun: 'bun-windows-x64', os: 'win32', arch: 'x64', exe: true },
] as const

export type Target = (typeof TARGETS)[number]

const root = join(import.meta.dir, '..')
export const OUT_DIR = join(root, 'builds', 'out')

export function hostTarget(): Target {
  const t = TARGETS.find((t) => t.os === process.platform && t.arch === process.arch && !('musl' in t))
  if (!t) throw new Error(`no build target for this host (${process.platform}-${process.arch})`)
  return t
}

export const outFile = (t: Target, dir = OUT_DIR) => join(dir, `leither-${t.name}${'exe' in t ? '.exe' : ''}`)

function gitCommit(): string {
  const r = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root })
  return r.exitCode === 0 ? r.stdout.toString().trim() : 'unknown'
}

export interface BuildOptions {
  entry?: string
  outfile: string
  bytecode?: boolean
  define?: Record<string, unknown>
}

/** One `bun build --compile` (builds/compile.ts, in a child process); throws with bun's output when it fails. */
export function compile(t: Target, opts: BuildOptions): void {
  const job: CompileJob = {
    entry: opts.entry ?? join(root, 'runtime', 'main.ts'),
    outfile: opts.outfile,
    target: t.bun,
    bytecode: opts.bytecode,
    define: Object.fromEntries(Object.entries(opts.define ?? {}).map(([k, v]) => [k, JSON.stringify(v)])),
    leither: opts.entry === undefined,
  }
  const r = Bun.spawnSync([process.execPath, join(root, 'builds', 'compile.ts'), JSON.stringify(job)], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`build of ${t.name} failed:\n${r.stderr.toString()}${r.stdout.toString()}`)
}

/** Size after `xz -6`, the form a router download would take. */
export function xzSize(path: string): number | undefined {
  const r = Bun.spawnSync(['xz', '-6', '-T0', '-c', path], { stdout: 'pipe', stderr: 'ignore' })
  return r.exitCode === 0 ? r.stdout.length : undefined
}

const mb = (n: number | undefined) => (n === undefined ? 'n/a' : `${(n / 1e6).toFixed(1)} MB`)

async function main(argv: string[]): Promise<void> {
  const picked = argv.flatMap((a, i) => (a === '--target' ? [argv[i + 1]] : []))
  const unknown = picked.filter((n) => !TARGETS.some((t) => t.name === n))
  if (argv.includes('--help')) {
    console.log(`Usage: bun builds/build.ts [--single] [--target NAME]... [--bytecode]\n\nTargets: ${TARGETS.map((t) => t.name).join(', ')}`)
    return
  }
  if (unknown.length) throw new Error(`unknown target ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`)
  const targets = argv.includes('--single') ? [hostTarget()] : picked.length ? TARGETS.filter((t) => picked.includes(t.name)) : [...TARGETS]
  // Bytecode starts ~25% faster but adds ~3.3 MB per binary, past the 3 MB our code may add;
  // start-up is well under its goal without it (bench/RESULTS.md). Opt in with --bytecode.
  const bytecode = argv.includes('--bytecode')

  // The embedded app index must match apps/ exactly, or the binary would ship stale files.
  writeFileSync(join(root, 'runtime', 'apps', 'embedded.gen.ts'), await GENERATED['runtime/apps/embedded.gen.ts']())
  mkdirSync(OUT_DIR, { recursive: true })
  const build = { commit: gitCommit(), date: new Date().toISOString().slice(0, 10) }
  const rows: string[] = []
  const sums: string[] = []
  for (const [i, t] of targets.entries()) {
    const outfile = outFile(t)
    rmSync(outfile, { force: true })
    const started = performance.now()
    process.stderr.write(`[${i + 1}/${targets.length}] ${t.name} … `)
    compile(t, { outfile, bytecode, define: { LEITHER_BUILD: { ...build, target: t.name } } })
    const size = statSync(outfile).size
    const xz = xzSize(outfile)
    process.stderr.write(`${mb(size)} (xz ${mb(xz)}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
    sums.push(`${createHash('sha256').update(readFileSync(outfile)).digest('hex')}  ${outfile.split('/').pop()}`)
    rows.push(`| ${t.name} | ${size} | ${mb(size)} | ${xz ?? 'n/a'} | ${mb(xz)} |`)
  }
  writeFileSync(join(OUT_DIR, 'SHA256SUMS'), sums.join('\n') + '\n')
  writeFileSync(
    join(OUT_DIR, 'SIZES.md'),
    [
      `# leither binary sizes (commit ${build.commit}, ${build.date}${bytecode ? ', --bytecode' : ''})`,
      '',
      '| target | bytes | size | xz bytes | xz size |',
      '|---|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  )
  console.log(`wrote ${targets.length} binaries, SHA256SUMS and SIZES.md to ${OUT_DIR}`)
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`build: ${(err as Error).message}`)
    process.exit(1)
  })
}
