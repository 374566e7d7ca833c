// What builds/compile.ts changes in the binary: kad-dht's prefix table read from a packed embedded
// file gives every entry the package's list gives; a list of another shape stops the build.
import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hostTarget } from '../../builds/build.ts'
import { compileJob, KAD_PREFIX_COUNT, packPrefixes } from '../../builds/compile.ts'
import { ROOT, tempDir } from '../helpers/node.ts'

const LIST = join(ROOT, 'node_modules', '@libp2p', 'kad-dht', 'dist', 'src', 'routing-table', 'generated-prefix-list.js')
const REFRESH = join(ROOT, 'node_modules', '@libp2p', 'kad-dht', 'dist', 'src', 'routing-table', 'refresh.js')
/** The key kad-dht's refresh makes from the table for a local id, a random prefix and a common prefix length (as below). */
const KEY_EXPR = 'Buffer.from(RoutingTableRefresh.prototype._makePeerId(new Uint8Array(32).fill(0xab), 0x1234, 5)).toString("hex")'

describe('the binary build', () => {
  test("kad-dht's prefix table, packed into the binary, has every entry of the package's list", async () => {
    const original = ((await import(LIST)) as { default: number[] }).default
    expect(original.length).toBe(KAD_PREFIX_COUNT)
    using dir = tempDir('leither-compile-')
    const entry = join(dir, 'prefixes.ts')
    // Prints a hash of all entries read one by one, the way kad-dht reads them, and some values.
    writeFileSync(
      entry,
      [
        `import table from ${JSON.stringify(LIST)}`,
        `import { RoutingTableRefresh } from ${JSON.stringify(REFRESH)}`,
        'const h = new Bun.CryptoHasher("sha256")',
        'const b = Buffer.alloc(4)',
        'for (let i = 0; i < table.length; i += 1) { b.writeUInt32LE(table[i]); h.update(b) }',
        `console.log(JSON.stringify({ length: table.length, hash: h.digest("hex"), some: [table[0], table[1], table[65535], table[65536]], key: ${KEY_EXPR} }))`,
      ].join('\n'),
    )
    const exe = join(dir, 'prefixes')
    await compileJob({ entry, outfile: exe, target: hostTarget().bun, leither: false })
    const run = Bun.spawnSync([exe], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
    expect(run.stderr.toString()).toBe('')
    const h = new Bun.CryptoHasher('sha256')
    const b = Buffer.alloc(4)
    for (const n of original) {
      b.writeUInt32LE(n)
      h.update(b)
    }
    const { RoutingTableRefresh } = await import(REFRESH)
    const key = Buffer.from(RoutingTableRefresh.prototype._makePeerId(new Uint8Array(32).fill(0xab), 0x1234, 5)).toString('hex')
    expect(JSON.parse(run.stdout.toString())).toEqual({ length: KAD_PREFIX_COUNT, hash: h.digest('hex'), some: [original[0], original[1], original[65535], null], key })
  }, 60_000)

  test('a prefix list of another shape stops the build', () => {
    using dir = tempDir('leither-compile-')
    expect(() => packPrefixes('export default [\n 1, 2, 3\n];\n', dir)).toThrow('not 65536 unsigned numbers')
    const negative = `export default [\n${Array.from({ length: KAD_PREFIX_COUNT }, (_, i) => (i === 7 ? -1 : i)).join(', ')}\n];\n`
    expect(() => packPrefixes(negative, dir)).toThrow('not 65536 unsigned numbers')
  })
})
