// Versions of file MiMei: snapshots into blocks, reading old versions, restore, deterministic
// digests across nodes, and disk repair after a crash.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { bytes, fileMiMei, get, login, O, put, text, usage } from './files-setup.ts'

let node: TestKernel
let sid: string
beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
})
afterAll(() => node[Symbol.asyncDispose]())

const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)
/** 700 KiB of pseudo-random bytes: three chunks, none equal to another. */
const big = (() => {
  let x = 0x2545f491
  return new Uint8Array(700 * 1024).map(() => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x & 0xff))
})()

describe('versions', () => {
  test('backup, change, read the old version, restore it', async () => {
    const { mid, h } = await fileMiMei(node, sid)
    await call('FSMkDir', sid, h, 'site/img')
    await put(node, sid, h, 'site/index.html', '<h1>v1</h1>')
    await put(node, sid, h, 'site/img/big.bin', big)
    const sum1 = await call('MMSum', sid, mid, 'cur')
    expect(await call('MMBackup', sid, mid, 'first')).toBe(1)
    expect(await call('MMSum', sid, mid, 1)).toBe(sum1)
    // Every block of the snapshot is pinned by the version.
    const pinned = node.store.db.query('SELECT count(*) AS n FROM block_pins WHERE owner = ?').get(`v:${node.mimei.row(mid).id}:1`) as { n: number }
    expect(pinned.n).toBe(3 + 1 + 2 + 3) // big's chunks and manifest, index.html's chunk and manifest, img, site, root

    await put(node, sid, h, 'site/index.html', '<h1>v2</h1>')
    await call('FSRemoveAll', sid, h, 'site/img')
    expect(await call('MMSum', sid, mid, 'cur')).not.toBe(sum1)

    const v1 = (await call('MMOpen', sid, mid, 1)) as string
    expect(text(await get(node, sid, v1, 'site/index.html'))).toBe('<h1>v1</h1>')
    const f = (await call('MFOpenByPath', sid, v1, 'site/img/big.bin', O.RDONLY)) as string
    expect(await call('MFGetData', f, 262_100, 200)).toEqual(big.subarray(262_100, 262_300))
    expect(await call('MFGetData', f, -5, 5)).toEqual(big.subarray(-5))
    const st = (await call('MFStat', f)) as { cid: string; size: number; modTime: Date }
    expect(st.size).toBe(big.length)
    expect(st.cid).toStartWith('bafyrei')
    const dir = (await call('MFOpenByPath', sid, v1, 'site', O.RDONLY)) as string
    expect(((await call('MFReaddir', dir, 1)) as { name: string }[]).map((e) => e.name)).toEqual(['img'])
    expect(((await call('MFReaddir', dir, 0)) as { name: string; isDir: boolean }[]).map((e) => [e.name, e.isDir])).toEqual([['index.html', false]])
    expect(await call('MFReaddir', dir, 0)).toEqual([])
    expect(await call('MFGetMimeType', f)).toBe('application/octet-stream')
    expect(await failure(call('MFOpenByPath', sid, v1, 'site/index.html', O.RDWR))).toContain('version 1 of MiMei')
    expect(await failure(call('MFOpenByPath', sid, v1, 'site/new', O.WRONLY | O.CREATE))).toStartWith('PermissionDenied')
    expect(await failure(call('MFOpenByPath', sid, v1, 'site/none', O.RDONLY))).toStartWith('NotFound: no file or directory "site/none"')
    expect(await failure(call('FSMkDir', sid, v1, 'x'))).toStartWith('PermissionDenied')

    const live = (await call('MFOpenByPath', sid, h, 'site/index.html', O.RDONLY)) as string
    const seq = usage(node, mid).seq
    expect(await call('MMRestore', sid, mid, 1)).toBe(1)
    await Promise.resolve() // the old bytes are deleted once the restore's transaction settled
    expect(text(await get(node, sid, h, 'site/index.html'))).toBe('<h1>v1</h1>')
    expect(await get(node, sid, h, 'site/img/big.bin')).toEqual(big)
    expect(await call('MMSum', sid, mid, 'cur')).toBe(sum1)
    expect(usage(node, mid).seq).toBeGreaterThan(seq)
    expect(usage(node, mid).bytes).toBe(big.length + 11)
    // Handles of the replaced tree are stale; the disk holds exactly the restored files.
    expect(await failure(call('MFGetData', live, 0, 1))).toContain('was removed')
    expect(readdirSync(join(node.dataDir, 'files', String(node.mimei.row(mid).id)))).toHaveLength(2)
    // The restored tree is writable as before.
    await put(node, sid, h, 'site/img/big.bin', 'small')
    expect(text(await get(node, sid, h, 'site/img/big.bin'))).toBe('small')
  })

  test('equal files share blocks; an unchanged file is not hashed again', async () => {
    const { mid, h } = await fileMiMei(node, sid)
    const content = big.map((b) => b ^ 0x5a)
    await put(node, sid, h, 'a', content)
    await put(node, sid, h, 'b', content)
    const count = () => (node.store.db.query('SELECT count(*) AS n FROM blocks').get() as { n: number }).n
    const before = count()
    await call('MMBackup', sid, mid, '')
    expect(count() - before).toBe(3 + 1 + 1) // one copy of the three chunks, one manifest, the root
    const cached = node.store.db.query('SELECT cid FROM file_nodes WHERE m = ? ORDER BY name').values(node.mimei.row(mid).id) as string[][]
    expect(cached[0][0]).toStartWith('bafyrei')
    expect(cached[0][0]).toBe(cached[1][0])
    const f = (await call('MFOpenByPath', sid, h, 'a', O.RDWR)) as string
    expect(((await call('MFStat', f)) as { cid?: string }).cid).toBe(cached[0][0])
    await call('MFSetData', f, 'x', 0)
    expect(((await call('MFStat', f)) as { cid?: string }).cid).toBeUndefined()
  })
})

describe('digests across nodes', () => {
  test('two nodes holding the same tree agree on MMSum, however it was written', async () => {
    await using other = await bootTest()
    const otherSid = await login(other)
    const a = await fileMiMei(node, sid)
    const b = await fileMiMei(other, otherSid)
    // Node A: in one go, directories first.
    await callLocal(node, 'FSMkDir', sid, a.h, 'd/e')
    await put(node, sid, a.h, 'd/e/big', big)
    await put(node, sid, a.h, 'z.txt', 'zed')
    await put(node, sid, a.h, 'd/ünï', 'x')
    // Node B: other order, other chunking, a rename and a detour through other content.
    await put(other, otherSid, b.h, 'z.txt', 'not yet')
    await put(other, otherSid, b.h, 'z.txt', 'zed')
    await callLocal(other, 'FSMkDir', otherSid, b.h, 'tmp/e')
    await put(other, otherSid, b.h, 'tmp/ünï', 'x')
    const f = (await callLocal(other, 'MFOpenByPath', otherSid, b.h, 'tmp/e/big', O.WRONLY | O.CREATE)) as string
    for (let at = big.length; at > 0; at -= 100_000) {
      const from = Math.max(0, at - 100_000)
      await callLocal(other, 'MFSetData', f, big.subarray(from, at), from)
    }
    await callLocal(other, 'FSRename', otherSid, b.h, 'tmp', 'd')
    const sumA = await callLocal(node, 'MMSum', sid, a.mid)
    expect(await callLocal(other, 'MMSum', otherSid, b.mid)).toBe(sumA)
    expect(await callLocal(other, 'MMBackup', otherSid, b.mid, '')).toBe(1)
    expect(await callLocal(other, 'MMSum', otherSid, b.mid, 1)).toBe(sumA)
    // One byte apart → different digests; an empty directory counts too.
    await put(other, otherSid, b.h, 'z.txt', 'zee')
    expect(await callLocal(other, 'MMSum', otherSid, b.mid)).not.toBe(sumA)
    await put(other, otherSid, b.h, 'z.txt', 'zed')
    expect(await callLocal(other, 'MMSum', otherSid, b.mid)).toBe(sumA)
    await callLocal(other, 'FSMkDir', otherSid, b.h, 'empty')
    expect(await callLocal(other, 'MMSum', otherSid, b.mid)).not.toBe(sumA)
  })
})

describe('after a crash', () => {
  test('start-up repairs file bytes that disagree with their rows and deletes strays', async () => {
    using dir = tempDir()
    let mid: string
    let disk: string
    {
      await using first = await bootTest({}, dir)
      const s = await login(first)
      const m = await fileMiMei(first, s)
      mid = m.mid
      await put(first, s, m.h, 'long', 'abc')
      await put(first, s, m.h, 'short', 'abcdef')
      disk = join(dir, 'files', String(first.mimei.row(mid).id))
      const byName = Object.fromEntries(first.store.db.query('SELECT name, ino FROM file_nodes').values() as [string, string][])
      // As if writes had reached the disk but not their rows, and a creation had not reached its row.
      appendFileSync(join(disk, byName.long), 'unrecorded')
      writeFileSync(join(disk, byName.short), 'ab')
      writeFileSync(join(disk, 'f'.repeat(32)), 'stray')
      writeFileSync(join(dir, 'tmp', 'upload-leftover'), 'stray upload')
    }
    await using second = await bootTest({}, dir)
    const s = await login(second)
    const h = (await callLocal(second, 'MMOpen', s, mid, 'cur')) as string
    expect(text(await get(second, s, h, 'long'))).toBe('abc')
    expect([...(await get(second, s, h, 'short'))]).toEqual([...bytes('ab'), 0, 0, 0, 0])
    expect(readdirSync(disk)).toHaveLength(2)
    expect(readdirSync(join(dir, 'tmp'))).toEqual([])
  })
})
