// Test helpers: temp data dirs, running `leither` as a real process, waiting for its ready line.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '..', '..')
export const MAIN = join(ROOT, 'runtime', 'main.ts')
/** The command that runs leither from source. */
export const LEITHER_SRC = [process.execPath, MAIN]

/** Commands never see the developer's own ~/.leither: HOME points at an empty folder. */
const SANDBOX_HOME = mkdtempSync(join(tmpdir(), 'leither-home-'))
const baseEnv = () => ({ ...process.env, HOME: SANDBOX_HOME, LEITHER_DATA: undefined, LEITHER_PORT: undefined })

export function tempDir(prefix = 'leither-test-'): string & Disposable {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return Object.assign(dir, { [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }) as string & Disposable
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs one leither command to completion. */
export async function cli(args: string[], opts: { env?: Record<string, string>; cmd?: string[]; cwd?: string } = {}): Promise<CliResult> {
  const proc = Bun.spawn([...(opts.cmd ?? LEITHER_SRC), ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: opts.cwd,
    env: { ...baseEnv(), ...opts.env },
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

export interface RunningNode extends AsyncDisposable {
  url: string
  proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  /** Everything written to stderr so far. */
  stderr(): string
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

/** Starts `leither run` and resolves once it printed `ready URL`; rejects with its stderr otherwise. */
export async function startNode(
  args: string[],
  opts: { env?: Record<string, string>; cmd?: string[]; cwd?: string; timeoutMs?: number } = {},
): Promise<RunningNode> {
  // Loopback only: any free libp2p port, and no mDNS multicast onto the real network.
  const netArgs = [...(args.includes('--p2p-port') ? [] : ['--p2p-port', '0']), ...(args.includes('--no-mdns') ? [] : ['--no-mdns'])]
  const proc = Bun.spawn([...(opts.cmd ?? LEITHER_SRC), 'run', ...args, ...netArgs], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: opts.cwd,
    env: { ...baseEnv(), ...opts.env },
  })
  let errText = ''
  ;(async () => {
    const errReader = proc.stderr.getReader()
    const decoder = new TextDecoder()
    for (let r = await errReader.read(); !r.done; r = await errReader.read()) errText += decoder.decode(r.value, { stream: true })
  })()
  const reader = proc.stdout.getReader()
  let outText = ''
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000)
  while (!outText.includes('\n')) {
    const left = deadline - Date.now()
    const next = await Promise.race([reader.read(), Bun.sleep(Math.max(left, 0)).then(() => 'timeout' as const)])
    if (next === 'timeout' || next.done) {
      proc.kill('SIGKILL')
      throw new Error(`node did not print ready (${next === 'timeout' ? 'timeout' : 'exited ' + (await proc.exited)}):\n${outText}\n${errText}`)
    }
    outText += new TextDecoder().decode(next.value)
  }
  reader.releaseLock()
  const line = outText.split('\n')[0]
  const match = /^ready (http:\/\/\S+)$/.exec(line)
  if (!match) {
    proc.kill('SIGKILL')
    throw new Error(`unexpected first stdout line: ${JSON.stringify(line)}`)
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
    return proc.exited
  }
  return { url: match[1], proc: proc as any, stderr: () => errText, stop, [Symbol.asyncDispose]: async () => void (await stop('SIGKILL')) }
}
