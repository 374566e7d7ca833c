// The binaries the benchmarks compare: leither and tiny Bun programs, compiled like the shipping build.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { compile, type Target } from '../builds/build.ts'
import { GENERATED } from '../scripts/gen.ts'

const root = join(import.meta.dir, '..')
export const WORK_DIR = join(import.meta.dir, '.work')

/** Programs that measure Bun's own floor: no code, print one line, or just stay alive. */
export const SNIPPETS = {
  empty: '// nothing: the runtime alone\nexport {}\n',
  ready: "console.log('ready')\n",
  idle: "console.log('ready')\nsetInterval(() => {}, 1 << 30)\n",
} as const

const exe = (t: Target) => ('exe' in t ? '.exe' : '')

let checked = false
function warnIfStale(): void {
  if (checked) return
  checked = true
  for (const [file, make] of Object.entries(GENERATED)) {
    if (readFileSync(join(root, file), 'utf8') !== make()) console.error(`warning: ${file} is out of date (run \`bun run gen\`); measuring it as it is`)
  }
}

/** leither for target `t` into `dir`, with the same defines as builds/build.ts. Returns the path. */
export function buildLeither(t: Target, dir: string, bytecode: boolean): string {
  warnIfStale()
  mkdirSync(dir, { recursive: true })
  const outfile = join(dir, `leither-${t.name}${bytecode ? '' : '-nobytecode'}${exe(t)}`)
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root }).stdout.toString().trim() || 'unknown'
  const build = { commit, date: new Date().toISOString().slice(0, 10), target: t.name }
  compile(t, { outfile, bytecode, define: { LEITHER_BUILD: build } })
  return outfile
}

/** One of SNIPPETS compiled for target `t` into `dir`. Returns the path. */
export function buildSnippet(t: Target, name: keyof typeof SNIPPETS, dir: string, bytecode: boolean): string {
  mkdirSync(dir, { recursive: true })
  const entry = join(dir, `${name}.ts`)
  writeFileSync(entry, SNIPPETS[name])
  const outfile = join(dir, `${name}-${t.name}${bytecode ? '' : '-nobytecode'}${exe(t)}`)
  compile(t, { entry, outfile, bytecode })
  return outfile
}

/** Copies a binary into a fresh folder under the system temp dir, where no node_modules can help it. */
export function copyToTemp(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'leither-bench-'))
  const dest = join(dir, basename(path))
  copyFileSync(path, dest)
  chmodSync(dest, 0o755)
  return dest
}
