// One `bun build --compile` through Bun.build (builds/build.ts runs it as a child process): the
// shipping flags, the JIT policy the binary starts with, and the one module the binary replaces.
import type { BunPlugin } from 'bun'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

/**
 * @libp2p/kad-dht's table of 65,536 prefixes (a 400 KB array literal) costs an idle node about
 * 1.8 MB, kept as code and as an array, though a routing-table refresh (at start, then every 10
 * minutes) reads only a few entries. In the binary the numbers are packed into an embedded file of
 * 256 KB and each read takes its entry from there. The build fails unless the module is the
 * expected list of 65,536 unsigned 32-bit numbers.
 */
const KAD_PREFIXES = /[\\/]@libp2p[\\/]kad-dht[\\/]dist[\\/]src[\\/]routing-table[\\/]generated-prefix-list\.js$/
export const KAD_PREFIX_COUNT = 65536

/** The numbers of the module's `export default [ … ]`, packed little-endian into a file in `dir`. */
export function packPrefixes(source: string, dir: string): string {
  const list = /^export default \[([\d\s,]*)\];/m.exec(source)?.[1]
  const numbers = list?.split(',').map((n) => n.trim()).filter(Boolean).map(Number) ?? []
  if (numbers.length !== KAD_PREFIX_COUNT || !numbers.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32)) {
    throw new Error(`kad-dht's generated-prefix-list.js is not ${KAD_PREFIX_COUNT} unsigned numbers any more: check builds/compile.ts`)
  }
  const packed = Buffer.alloc(numbers.length * 4)
  numbers.forEach((n, i) => packed.writeUInt32LE(n, i * 4))
  const path = join(dir, 'kad-prefixes.bin')
  writeFileSync(path, packed)
  return path
}

function kadPrefixes(dir: string, replaced: string[]): BunPlugin {
  return {
    name: 'leither-kad-prefixes',
    setup(build) {
      build.onLoad({ filter: KAD_PREFIXES }, (args) => {
        replaced.push(args.path)
        const packed = packPrefixes(readFileSync(args.path, 'utf8'), dir)
        return {
          loader: 'js',
          contents: [
            "import { readFileSync } from 'node:fs'",
            `import packed from ${JSON.stringify(packed)} with { type: 'file' }`,
            `const COUNT = ${KAD_PREFIX_COUNT}`,
            'const at = (i) => (i < COUNT ? readFileSync(packed).readUInt32LE(i * 4) : undefined)',
            "const index = (key) => (typeof key === 'string' && /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : undefined)",
            'export default new Proxy([], {',
            "  get: (target, key) => (key === 'length' ? COUNT : index(key) !== undefined ? at(index(key)) : Reflect.get(target, key)),",
            '})',
          ].join('\n'),
        }
      })
    },
  }
}

export async function compileJob(job: CompileJob): Promise<void> {
  const replaced: string[] = []
  const packDir = mkdtempSync(join(tmpdir(), 'leither-build-'))
  try {
    await build(job, replaced, packDir)
  } finally {
    rmSync(packDir, { recursive: true, force: true })
  }
  // Programs that do not use libp2p (the benches' anchors) have nothing to replace.
  if (job.leither && replaced.length !== 2) throw new Error(`expected to replace 2 modules, replaced ${replaced.length} (${replaced.join(', ')}): check builds/compile.ts against the packages`)
}

async function build(job: CompileJob, replaced: string[], packDir: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: [job.entry],
    minify: true,
    define: job.define,
    // --bytecode refuses top-level await unless the output is ESM.
    ...(job.bytecode ? { bytecode: true, format: 'esm' as const } : {}),
    plugins: [noiseDefaultCrypto(replaced), kadPrefixes(packDir, replaced)],
    // A node must not pick up a .env or bunfig.toml from whatever folder it is started in.
    compile: { target: job.target as Bun.Build.CompileTarget, outfile: job.outfile, autoloadDotenv: false, autoloadBunfig: false, jitPolicy: JIT_POLICY },
    throw: false,
  })
  if (!result.success) throw new Error(result.logs.map(String).join('\n'))
}

if (import.meta.main) {
  compileJob(JSON.parse(process.argv[2]) as CompileJob).catch((err) => {
    console.error((err as Error).message)
    process.exit(1)
  })
}
