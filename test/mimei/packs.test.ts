// Blocks in pack files: they read back after a restart, collected blocks give their space back
// (empty packs deleted, mostly dead ones compacted), and what a crash leaves behind is cleaned up.
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { blockStore, cidOf } from '../../runtime/mimei/blocks.ts'
import { migrate, openDatabase } from '../../runtime/store/index.ts'
import { tempDir } from '../helpers/node.ts'

const KiB = 1024
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n))

function open(dir: string) {
  const db = openDatabase(join(dir, 'leither.db'))
  migrate(db)
  return { db, blocks: blockStore(db, dir, { packMax: 64 * KiB }) }
}
const packFiles = (dir: string) => readdirSync(join(dir, 'blocks', 'packs')).sort()
const packBytes = (dir: string) => packFiles(dir).reduce((n, f) => n + statSync(join(dir, 'blocks', 'packs', f)).size, 0)

describe('pack files', () => {
  test('blocks fill packs one after another and read back, also after a restart', () => {
    using dir = tempDir('leither-packs-')
    const data = Array.from({ length: 10 }, () => random(20 * KiB))
    let cids: string[]
    {
      const { db, blocks } = open(dir)
      cids = data.map((d) => blocks.put(d))
      // Stored twice, kept once.
      expect(blocks.put(data[0])).toBe(cids[0])
      blocks.close()
      db.close()
    }
    // 20 KiB blocks, packs closed at 64 KiB: four blocks a pack.
    expect(packFiles(dir)).toEqual(['1.pack', '2.pack', '3.pack'])
    const { db, blocks } = open(dir)
    for (const [i, cid] of cids.entries()) expect(blocks.get(cid)).toEqual(data[i])
    blocks.close()
    db.close()
  })

  test('blocks written off the event loop together, in pieces, each land where their row says, across pack changes', async () => {
    using dir = tempDir('leither-packs-')
    const data = Array.from({ length: 12 }, () => random(20 * KiB))
    const cids = data.map((d) => cidOf(d))
    {
      const { db, blocks } = open(dir)
      // All in flight at once, each in three pieces; a mixed-in synchronous put takes its own place.
      const writes = data.map((d, i) => blocks.putCheckedAsync(cids[i], [d.subarray(0, 7000), d.subarray(7000, 7001), d.subarray(7001)]))
      const extra = random(5 * KiB)
      const extraCid = blocks.put(extra)
      // Nothing is recorded before its bytes are written.
      expect(cids.some((c) => blocks.has(c))).toBe(false)
      await Promise.all(writes)
      expect(blocks.get(extraCid)).toEqual(extra)
      blocks.close()
      db.close()
    }
    expect(packFiles(dir).length).toBeGreaterThan(2)
    const { db, blocks } = open(dir)
    for (const [i, cid] of cids.entries()) expect(blocks.get(cid)).toEqual(data[i])
    blocks.close()
    db.close()
  })

  test('gc deletes packs left with no live block and compacts those less than half live', () => {
    using dir = tempDir('leither-packs-')
    const { db, blocks } = open(dir)
    const cids = Array.from({ length: 13 }, () => blocks.put(random(20 * KiB)))
    // Packs 1..3 are full (pack 4, taking appends, is never collected); pack 1 keeps one block of
    // four, pack 2 all, pack 3 none.
    const keep = [cids[0], cids[4], cids[5], cids[6], cids[7], cids[12]]
    for (const c of keep) blocks.pin(c, 'test')
    const before = packBytes(dir)
    const r = blocks.gc(0)
    expect(r.blocks).toBe(7)
    expect(packFiles(dir)).not.toContain('1.pack')
    expect(packFiles(dir)).not.toContain('3.pack')
    expect(packFiles(dir)).toContain('2.pack')
    expect(packBytes(dir)).toBeLessThan(before - 6 * 20 * KiB)
    for (const c of keep) expect(blocks.get(c).length).toBe(20 * KiB)
    for (const c of cids.filter((c) => !keep.includes(c))) expect(blocks.has(c)).toBe(false)
    blocks.close()
    db.close()
  })

  test('a pack no row names (a crash before its first row, or mid-compaction) is deleted at start', () => {
    using dir = tempDir('leither-packs-')
    {
      const { db, blocks } = open(dir)
      blocks.put(random(KiB))
      blocks.close()
      db.close()
    }
    const stray = join(dir, 'blocks', 'packs', '9.pack')
    writeFileSync(stray, random(KiB))
    const { db, blocks } = open(dir)
    expect(existsSync(stray)).toBe(false)
    expect(packFiles(dir)).toEqual(['1.pack'])
    blocks.close()
    db.close()
  })
})
