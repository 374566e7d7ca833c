// The compiled host binary, run from a folder with no node_modules above it: version, run, stop.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
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
})
