// bench/RESULTS.md: replaces or appends one `## title` section (never for a quick run); the machine line each section opens with.
import { cpus } from 'node:os'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const RESULTS_FILE = join(import.meta.dir, 'RESULTS.md')

/** What a quick run's section says of itself. */
export const QUICK_NOTE = '--quick: a smoke run of the bench, not a measurement; bench/RESULTS.md left as it was.'

/**
 * Replaces the section `## title` (up to the next `## `) or appends it; other sections stay as they
 * are. A quick run never writes the file, so it cannot replace a full run's numbers: its section is
 * printed on stdout, headed as a quick run.
 */
export function writeSection(title: string, markdown: string, opts: { quick?: boolean; file?: string } = {}): void {
  if (opts.quick) {
    console.log(`## ${title} (quick run)\n\n${QUICK_NOTE}\n\n${markdown.trim()}\n`)
    return
  }
  const file = opts.file ?? RESULTS_FILE
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n'
  const section = `## ${title}\n\n${markdown.trim()}\n`
  const lines = text.split('\n')
  const start = lines.findIndex((l) => l.trim() === `## ${title}`)
  let out: string
  if (start === -1) {
    out = `${text.trimEnd()}\n\n${section}`
  } else {
    const next = lines.findIndex((l, i) => i > start && l.startsWith('## '))
    const before = lines.slice(0, start).join('\n').trimEnd()
    const after = next === -1 ? '' : lines.slice(next).join('\n').trim()
    out = `${before}\n\n${section}${after ? `\n${after}\n` : ''}`
  }
  writeFileSync(file, out)
}

/** "2026-11-25, bun 1.4.5, linux-x64, 2 × AMD EPYC" — where and when a number was measured. */
export function machineLine(): string {
  let model = cpus()[0]?.model ?? 'unknown cpu'
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? model
  } catch {}
  const nproc = Bun.spawnSync(['nproc']).stdout.toString().trim() || String(cpus().length)
  const date = new Date().toISOString().slice(0, 10)
  return `Measured ${date} with bun ${Bun.version} on ${process.platform}-${process.arch}, nproc ${nproc}, ${model.trim()}.`
}

export const mb = (n: number | undefined, digits = 1) => (n === undefined ? 'n/a' : `${(n / 1e6).toFixed(digits)} MB`)

/** Markdown table from a header row and data rows; `align` marks right-aligned columns with 'r'. */
export function table(header: string[], rows: (string | number)[][], align = ''): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'))
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n')
}
