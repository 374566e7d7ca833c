// What every bench script needs: command-line values, bounded waits, and child processes and
// temp dirs that never outlive the script (killed and removed on exit, SIGINT or SIGTERM).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `--name VALUE` from the command line, or undefined when absent. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return undefined
  const v = process.argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`)
  return v
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms)))
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

/** Child processes still running, and folders to remove, when the script ends. */
export const live = new Set<Bun.Subprocess>()
export const tempDirs: string[] = []

export function cleanup(): void {
  for (const p of live) p.kill('SIGKILL')
  live.clear()
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
  tempDirs.length = 0
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130))

/** A fresh folder under the system temp dir, removed when the script ends. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(d)
  return d
}

/** Registers a child so it is killed if the script ends first. */
export function track<P extends Bun.Subprocess>(proc: P): P {
  live.add(proc)
  proc.exited.then(() => live.delete(proc))
  return proc
}
