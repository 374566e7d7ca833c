// The binaries the benchmarks compare: leither and tiny Bun programs, compiled like the shipping build.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { compile, type Target } from '../builds/build.ts'
import { JIT_POLICY } from '../builds/compile.ts'

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
  // gen --check names each stale file (some are made asynchronously, so it runs as its own process).
  const check = Bun.spawnSync([process.execPath, join(root, 'scripts', 'gen.ts'), '--check'], { cwd: root, stderr: 'pipe' })
  if (check.exitCode !== 0) console.error(`warning: ${check.stderr.toString().trim()}; measuring as it is`)
}

/**
 * The commit a build from this working tree is: HEAD's short hash, with `-dirty` when files that go
 * into the binary (runtime, syscalls, apps, package.json) differ from it.
 */
export function buildCommit(): string {
  const git = (...args: string[]) => Bun.spawnSync(['git', ...args], { cwd: root }).stdout.toString().trim()
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown'
  return git('status', '--porcelain', '--', 'runtime', 'syscalls', 'apps', 'package.json') ? `${head}-dirty` : head
}

/** The `bun build` flags builds/build.ts compile() uses for target `t` (the defines and builds/compile.ts's one replaced module aside). */
export const compileFlags = (t: Target, bytecode: boolean) =>
  `--compile --minify --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=${JIT_POLICY} --target=${t.bun}${bytecode ? ' --bytecode --format=esm' : ''}`

/** leither for target `t` into `dir`, with the same defines as builds/build.ts. Returns the path. */
export function buildLeither(t: Target, dir: string, bytecode: boolean): string {
  warnIfStale()
  mkdirSync(dir, { recursive: true })
  const outfile = join(dir, `leither-${t.name}${bytecode ? '' : '-nobytecode'}${exe(t)}`)
  const build = { commit: buildCommit(), date: new Date().toISOString().slice(0, 10), target: t.name }
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
