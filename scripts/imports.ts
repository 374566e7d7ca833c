// The import graph of the source: which file imports which, and the cycles among folders and among files.
// `bun scripts/imports.ts` prints the folder and file cycles (none is the goal) with a file edge for each arrow.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'

/** One import of a file: its specifier as written and, for a relative one, the repo path it names. */
export interface ImportEdge {
  readonly from: string
  readonly specifier: string
  /** Repo-relative path (with `/`), or undefined for a package or builtin (`node:fs`, `elysia`). */
  readonly to?: string
}

const STATIC = /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s+['"]([^'"]+)['"]/gm
const BARE = /^[ \t]*import\s+['"]([^'"]+)['"]/gm
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Specifiers of every import in a TypeScript source: static, type-only, re-exports, side-effect and import('…'). */
export function specifiersOf(source: string): string[] {
  const out: string[] = []
  for (const re of [STATIC, BARE, DYNAMIC]) for (const m of source.matchAll(re)) out.push(m[1])
  return out
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'static' ? [] : tsFiles(path)
      return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
    })
}

const posix = (p: string) => p.split(sep).join('/')

/** Every import of every .ts file under `dirs` (repo-relative folders) of the repo at `root`. */
export function importEdges(root: string, dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const dir of dirs) {
    for (const file of tsFiles(join(root, dir))) {
      const from = posix(relative(root, file))
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        const to = specifier.startsWith('.') ? posix(relative(root, resolve(dirname(file), specifier))) : undefined
        edges.push({ from, specifier, to })
      }
    }
  }
  return edges
}

/**
 * The folder a file belongs to for the layering rules: `runtime/<dir>` for a file under a
 * runtime folder, `runtime/<name>.ts` for a top-level runtime file (each its own node), else the
 * repo's top folder (`syscalls`).
 */
export function folderOf(path: string): string {
  const parts = path.split('/')
  if (parts[0] === 'runtime') return parts.length > 2 ? `runtime/${parts[1]}` : path
  return parts[0]
}

/** Folder arrows, each with one file edge that makes it (for the message). */
export function folderGraph(edges: readonly ImportEdge[]): Map<string, Map<string, ImportEdge>> {
  const graph = new Map<string, Map<string, ImportEdge>>()
  for (const e of edges) {
    if (!e.to) continue
    const a = folderOf(e.from)
    const b = folderOf(e.to)
    if (a === b) continue
    if (!graph.has(a)) graph.set(a, new Map())
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, e)
  }
  return graph
}

/** File arrows (relative imports only), each with its edge. */
export function fileGraph(edges: readonly ImportEdge[]): Map<string, Map<string, ImportEdge>> {
  const graph = new Map<string, Map<string, ImportEdge>>()
  for (const e of edges) {
    if (!e.to || e.to === e.from) continue
    if (!graph.has(e.from)) graph.set(e.from, new Map())
    graph.get(e.from)!.set(e.to, e)
  }
  return graph
}

/** Strongly connected groups of more than one node (Tarjan) in a folder or file graph: each is a set of folders importing each other. */
export function cyclesOf(graph: ReadonlyMap<string, ReadonlyMap<string, ImportEdge>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let next = 0
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1) out.push(group.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return out
}

/** Text of a cycle group: every arrow inside it with the file edge that makes it. */
export function describeCycle(group: readonly string[], graph: ReadonlyMap<string, ReadonlyMap<string, ImportEdge>>): string {
  const lines: string[] = []
  for (const a of group) {
    for (const [b, e] of graph.get(a) ?? []) if (group.includes(b)) lines.push(`  ${a} → ${b} (${e.from} imports ${e.specifier})`)
  }
  return `${group.join(', ')}:\n${lines.join('\n')}`
}

if (import.meta.main) {
  const root = join(import.meta.dir, '..')
  const edges = importEdges(root, ['runtime', 'syscalls'])
  let found = 0
  for (const [kind, graph] of [['folder', folderGraph(edges)], ['file', fileGraph(edges)]] as const) {
    const cycles = cyclesOf(graph)
    for (const group of cycles) console.log(describeCycle(group, graph))
    console.log(`${cycles.length} ${kind} cycle(s)`)
    found += cycles.length
  }
  process.exit(found ? 1 : 0)
}
