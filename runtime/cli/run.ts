// `leither run`: boot the kernel, print the ready line, stop cleanly on SIGINT/SIGTERM.
import { boot } from '../boot.ts'
import { resolveDataDir, type Config } from '../config/index.ts'
import type { Parsed } from './args.ts'

/** A stop that has not finished by then is cut short, so a service manager never waits longer. */
const STOP_DEADLINE_MS = 4500

export async function runCommand(p: Parsed): Promise<number> {
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  const overrides: Partial<Config> = {}
  if (p.flags.port !== undefined) overrides.port = p.flags.port as number
  if (p.flags['p2p-port'] !== undefined) overrides.p2pPort = p.flags['p2p-port'] as number
  if (p.flags.host !== undefined) overrides.host = p.flags.host as string
  if (p.flags['log-level'] !== undefined) overrides.logLevel = p.flags['log-level'] as Config['logLevel']
  if (p.flags.bootstrap !== undefined) overrides.bootstrap = p.flags.bootstrap as string[]
  if (p.flags['no-mdns']) overrides.mdns = false
  if (p.flags.offline) overrides.p2p = false

  const kernel = await boot({ dataDir, overrides })
  const { promise: done, resolve } = Promise.withResolvers<number>()

  const onSignal = (signal: string) => {
    kernel.log.info('signal received, shutting down', { signal })
    const timer = setTimeout(() => {
      kernel.log.warn('shutdown deadline reached; closing what is left')
      resolve(0)
    }, STOP_DEADLINE_MS)
    kernel.stop().then(
      () => {
        clearTimeout(timer)
        resolve(0)
      },
      (err) => {
        kernel.log.error('shutdown failed', { error: (err as Error).message })
        resolve(1)
      },
    )
  }
  process.once('SIGINT', () => onSignal('SIGINT'))
  process.once('SIGTERM', () => onSignal('SIGTERM'))

  // The one line scripts and tests wait for; everything else goes to stderr and the log.
  process.stdout.write(`ready ${kernel.url}\n`)
  // The binary starts with the JIT held back (builds/compile.ts JIT_POLICY): code that ran only to
  // start stays uncompiled. From here on, requests get the normal JIT.
  Bun.unsafe.setJITPolicy(1)
  // What was compiled and allocated only to start is released the next time the node is idle:
  // about 5 MB of idle RSS; the first request then compiles what it needs again (~8 ms, once).
  // (Bun marks shrink() deprecated without a replacement; it is skipped should it ever go away.)
  ;(Bun as { shrink?: () => void }).shrink?.()
  return done
}
