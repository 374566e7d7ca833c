// The compiled host binary, run from a folder with no node_modules above it: version, run, stop.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import pkg from '../../package.json' with { type: 'json' }
import { compile, hostTarget } from '../../builds/build.ts'
import { cli, startNode, tempDir } from '../helpers/node.ts'

/** A compiled binary still resolves imports from any node_modules above it; make sure there is none. */
function noNodeModulesAbove(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return false
    if (dirname(d) === d) return true
  }
}

describe('compiled binary', () => {
  test('builds, prints its version, serves /getvar and stops cleanly on SIGTERM', async () => {
    using bin = tempDir('leither-bin-')
    using data = tempDir()
    expect(noNodeModulesAbove(bin)).toBe(true)
    const exe = join(bin, 'leither')
    compile(hostTarget(), { outfile: exe, bytecode: false, define: { LEITHER_BUILD: { commit: 'test', target: hostTarget().name, date: 'today' } } })

    const version = await cli(['version'], { cmd: [exe], cwd: bin })
    expect(version.code).toBe(0)
    expect(version.stdout).toStartWith(`leither ${pkg.version} (${hostTarget().name}, commit test`)

    const node = await startNode(['--data', data, '--port', '0', '--host', '127.0.0.1'], { cmd: [exe], cwd: bin })
    try {
      expect(await (await fetch(`${node.url}/getvar?name=ver`)).json()).toBe(pkg.version)
      // The launcher page is embedded: there is no apps/ folder next to the binary.
      expect(await (await fetch(`${node.url}/`)).text()).toContain('<title>Leither</title>')
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0)
    }
    expect(node.stderr()).toContain('stopped')
  }, 120_000)

  // The binary replaces @libp2p/noise's default crypto (builds/compile.ts) and starts with the JIT
  // held back: two binaries still connect over Noise and move a file of 1 MiB, frames far past the
  // size where a missing cipher used to fail.
  test('two binaries connect over Noise and sync a 1 MiB file', async () => {
    using bin = tempDir('leither-bin-')
    using dataA = tempDir()
    using dataB = tempDir()
    using work = tempDir()
    const exe = join(bin, 'leither')
    compile(hostTarget(), { outfile: exe, bytecode: false, define: { LEITHER_BUILD: { commit: 'test', target: hostTarget().name, date: 'today' } } })
    const run = { cmd: [exe], cwd: bin }
    const a = await startNode(['--data', dataA, '--port', '0', '--host', '127.0.0.1'], run)
    const addrs = (await (await fetch(`${a.url}/getvar?name=nodeaddrs`)).json()) as string[]
    const b = await startNode(['--data', dataB, '--port', '0', '--host', '127.0.0.1', '--bootstrap', addrs[0]], run)
    try {
      const onA = (...args: string[]) => cli([...args, '--data', dataA, '--node', a.url], run)
      const onB = (...args: string[]) => cli([...args, '--data', dataB, '--node', b.url], run)
      const bytes = crypto.getRandomValues(new Uint8Array(1 << 20))
      writeFileSync(join(work, 'in.bin'), bytes)
      const mid = (await onA('mimei', 'create', '--app', 'album', '--type', 'file', '--public')).stdout.trim()
      expect((await onA('mimei', 'put', mid, 'big.bin', join(work, 'in.bin'))).code).toBe(0)
      expect((await onA('mimei', 'backup', mid)).code).toBe(0)
      expect((await onA('mimei', 'publish', mid)).code).toBe(0)
      // The bootstrap dial happens about a second after start; a sync before it finds nobody.
      let sync = await onB('mimei', 'sync', mid)
      for (const deadline = Date.now() + 20_000; sync.code !== 0 && Date.now() < deadline; await Bun.sleep(200)) sync = await onB('mimei', 'sync', mid)
      expect(sync.stderr).toBe('')
      expect(JSON.parse(sync.stdout)).toMatchObject({ state: 'done', ver: 1 })
      expect((await onB('mimei', 'get', mid, 'big.bin', '--out', join(work, 'out.bin'))).code).toBe(0)
      expect(Buffer.compare(readFileSync(join(work, 'out.bin')), Buffer.from(bytes))).toBe(0)
    } finally {
      expect(await b.stop('SIGTERM')).toBe(0)
      expect(await a.stop('SIGTERM')).toBe(0)
    }
  }, 120_000)
})
