// One `bun build --compile` through Bun.build (builds/build.ts runs it as a child process): the
// shipping flags, the JIT policy the binary starts with, and the one module the binary replaces.
import type { BunPlugin } from 'bun'

export interface CompileJob {
  entry: string
  outfile: string
  /** Bun's name of the target, e.g. bun-linux-x64. */
  target: string
  bytecode?: boolean
  /** Values already JSON-encoded, as `--define` takes them. */
  define?: Record<string, string>
  /** True for leither itself: then the module below must be found and replaced. */
  leither: boolean
}

/**
 * JavaScriptCore's tier-up thresholds are scaled by this until `leither run` is ready (it then
 * calls Bun.unsafe.setJITPolicy(1)): code that runs only while the node starts stays in the
 * interpreter instead of being compiled, and the compiled code and compiler memory are not kept.
 * Measured: idle RSS −3.5 MB at 16 (bench/RESULTS.md "Cold start and idle memory").
 */
export const JIT_POLICY = 16

/**
 * @libp2p/noise's default crypto instantiates two WebAssembly modules (ChaCha20-Poly1305 and
 * SHA-256) when it is imported, which costs an idle node about 5 MB. The node never uses it: it
 * hands Noise its own crypto (runtime/net/crypto.ts). In the binary the module exports the package's
 * pure-JS crypto under the same name instead — correct, only slower, were anything ever to use it.
 * The build fails if the module is not found, so a new layout of the package cannot slip past.
 */
const NOISE_DEFAULT_CRYPTO = /[\\/]@libp2p[\\/]noise[\\/]dist[\\/]src[\\/]crypto[\\/]index\.js$/

function noiseDefaultCrypto(replaced: string[]): BunPlugin {
  return {
    name: 'leither-noise-default-crypto',
    setup(build) {
      build.onLoad({ filter: NOISE_DEFAULT_CRYPTO }, (args) => {
        replaced.push(args.path)
        return { loader: 'js', contents: "import { pureJsCrypto } from './js.js'\nexport { pureJsCrypto }\nexport const defaultCrypto = pureJsCrypto\n" }
      })
    },
  }
}

export async function compileJob(job: CompileJob): Promise<void> {
  const replaced: string[] = []
  const result = await Bun.build({
    entrypoints: [job.entry],
    minify: true,
    define: job.define,
    // --bytecode refuses top-level await unless the output is ESM.
    ...(job.bytecode ? { bytecode: true, format: 'esm' as const } : {}),
    plugins: [noiseDefaultCrypto(replaced)],
    // A node must not pick up a .env or bunfig.toml from whatever folder it is started in.
    compile: { target: job.target as Bun.Build.CompileTarget, outfile: job.outfile, autoloadDotenv: false, autoloadBunfig: false, jitPolicy: JIT_POLICY },
    throw: false,
  })
  if (!result.success) throw new Error(result.logs.map(String).join('\n'))
  // Programs that do not use libp2p (the benches' anchors) have nothing to replace.
  if (job.leither && replaced.length === 0) throw new Error('@libp2p/noise/dist/src/crypto/index.js was not in the build: check builds/compile.ts against the package')
}

if (import.meta.main) {
  compileJob(JSON.parse(process.argv[2]) as CompileJob).catch((err) => {
    console.error((err as Error).message)
    process.exit(1)
  })
}
