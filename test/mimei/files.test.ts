// The file family through the dispatcher: bytes, flags, directories, renames, paths, rights,
// quotas, temp and mac files.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { bytes, fileMiMei, get, login, newUser, O, put, text, usage } from './files-setup.ts'

let node: TestKernel
let sid: string
beforeAll(async () => {
  node = await bootTest()
  sid = await login(node)
})
afterAll(() => node[Symbol.asyncDispose]())

const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)
const open = (h: string, path: string, flag: number) => call('MFOpenByPath', sid, h, path, flag) as Promise<string>

describe('bytes', () => {
  test('write at offsets, read back, negative offsets count from the end', async () => {
    const { mid, h } = await fileMiMei(node, sid)
    const f = await open(h, 'a.txt', O.RDWR | O.CREATE)
    expect(await call('MFSetData', f, bytes('hello world'), 0)).toBe(11)
    expect(await call('MFSetData', f, 'WORLD', 6)).toBe(5)
    expect(text(await call('MFGetData', f, 0, 100))).toBe('hello WORLD')
    expect(text(await call('MFGetData', f, 6, 3))).toBe('WOR')
    expect(text(await call('MFGetData', f, -5, 100))).toBe('WORLD')
    expect(text(await call('MFGetData', f, -100, 5))).toBe('hello')
    expect(await call('MFGetData', f, 11, 10)).toEqual(new Uint8Array(0))
    expect(await call('MFGetData', f, 50, 10)).toEqual(new Uint8Array(0))
    // Negative write offset: overwrite the last byte.
    await call('MFSetData', f, '!', -1)
    expect(text(await call('MFGetData', f, 0, 100))).toBe('hello WORL!')
    expect(await failure(call('MFSetData', f, 'x', -12))).toStartWith('InvalidParams: offset -12 is before the start')
    // A gap past the end reads as zeros.
    await call('MFSetData', f, 'Z', 13)
    expect([...((await call('MFGetData', f, 10, 10)) as Uint8Array)]).toEqual([33, 0, 0, 90])
    expect(await call('MFGetSize', f)).toBe(14)
    expect(usage(node, mid).bytes).toBe(14)
  })

  test('truncate cuts and extends with zeros; stat describes the file', async () => {
    const { h } = await fileMiMei(node, sid)
    const f = await open(h, 'b.bin', O.RDWR | O.CREATE)
    await call('MFSetData', f, 'abcdef', 0)
    expect(await call('MFTruncate', f, 3)).toBe(3)
    expect(text(await call('MFGetData', f, 0, 10))).toBe('abc')
    await call('MFTruncate', f, 5)
    expect([...((await call('MFGetData', f, 0, 10)) as Uint8Array)]).toEqual([97, 98, 99, 0, 0])
    const st = (await call('MFStat', f)) as Record<string, unknown>
    expect(st).toMatchObject({ name: 'b.bin', size: 5, isDir: false, mode: 0o644 })
    expect(st.modTime).toBeInstanceOf(Date)
    expect(Math.abs((st.modTime as Date).getTime() - Date.now())).toBeLessThan(60_000)
    expect(await failure(call('MFTruncate', f, -1))).toStartWith('InvalidParams')
  })

  test('one call moves at most 16 MiB', async () => {
    const { h } = await fileMiMei(node, sid)
    const f = await open(h, 'c', O.RDWR | O.CREATE)
    expect(await failure(call('MFGetData', f, 0, 16 * 1024 * 1024 + 1))).toContain('count is at most 16777216 bytes per call')
    expect(await failure(call('MFGetData', f, 0, -1))).toStartWith('InvalidParams: count must not be negative')
    expect(await failure(call('MFSetData', f, new Uint8Array(16 * 1024 * 1024 + 1), 0))).toContain('data is at most 16777216 bytes')
  })

  test('every write takes a sequence number and moves the stored bytes', async () => {
    const { mid, h } = await fileMiMei(node, sid)
    const before = usage(node, mid)
    const f = await open(h, 'd', O.RDWR | O.CREATE)
    await call('MFSetData', f, 'x'.repeat(100), 0)
    await call('MFSetData', f, 'y'.repeat(10), 0)
    await call('MFTruncate', f, 40)
    const after = usage(node, mid)
    expect(after.seq).toBe(before.seq + 4) // create, two writes, truncate
    expect(after.bytes).toBe(40)
  })
})

describe('open flags (Go os values)', () => {
  test('O_CREATE, O_EXCL, O_TRUNC, O_APPEND', async () => {
    const { h, mid } = await fileMiMei(node, sid)
    expect(await failure(open(h, 'f', O.RDONLY))).toBe(`NotFound: no file "f" in MiMei ${mid}; pass O_CREATE (0x40) to create it`)
    await put(node, sid, h, 'f', 'one')
    expect(await failure(open(h, 'f', O.WRONLY | O.CREATE | O.EXCL))).toStartWith('Conflict: "f" already exists')
    const a = await open(h, 'f', O.WRONLY | O.APPEND)
    await call('MFSetData', a, 'two', 0)
    await call('MFSetData', a, 'three', 1)
    expect(text(await get(node, sid, h, 'f'))).toBe('onetwothree')
    await open(h, 'f', O.WRONLY | O.TRUNC)
    expect(text(await get(node, sid, h, 'f'))).toBe('')
    expect(usage(node, mid).bytes).toBe(0)
  })

  test('the open mode is enforced; unknown and contradictory flags are refused', async () => {
    const { h } = await fileMiMei(node, sid)
    await put(node, sid, h, 'g', 'data')
    const ro = await open(h, 'g', O.RDONLY)
    expect(await failure(call('MFSetData', ro, 'x', 0))).toStartWith('PermissionDenied: this file was opened read-only')
    expect(await failure(call('MFTruncate', ro, 0))).toStartWith('PermissionDenied')
    const wo = await open(h, 'g', O.WRONLY)
    expect(await failure(call('MFGetData', wo, 0, 1))).toStartWith('PermissionDenied: this file was opened write-only')
    expect(await failure(open(h, 'g', 0x1000))).toStartWith('InvalidParams: unknown open flags in 4096 (0x1000); known: O_RDONLY 0')
    expect(await failure(open(h, 'g', 3))).toContain('access mode 3 does not exist')
    expect(await failure(open(h, 'g', O.RDONLY | O.TRUNC))).toContain('O_TRUNC and O_APPEND need O_WRONLY')
    expect(await failure(open(h, 'g', O.RDWR | O.EXCL))).toContain('O_EXCL (0x80) only goes with O_CREATE')
    expect(await failure(open(h, 'g', -1))).toStartWith('InvalidParams: unknown open flags')
  })

  test('a database MiMei has no files', async () => {
    const mid = (await call('MMCreate', sid, 'filetest', 'db', '{{auto}}', 2, 0)) as string
    const h = (await call('MMOpen', sid, mid, 'cur')) as string
    expect(await failure(open(h, 'x', O.RDONLY))).toContain('is a database; use the db calls')
    expect(await failure(call('FSMkDir', sid, h, 'x'))).toContain('is a database')
    expect(await failure(open('no-such-handle', 'x', O.RDONLY))).toStartWith('NotFound: unknown or expired MiMei handle')
  })
})

describe('directories', () => {
  test('FSMkDir makes parents; Readdir pages in name order; directories are not files', async () => {
    const { h, mid } = await fileMiMei(node, sid)
    expect(await call('FSMkDir', sid, h, '/docs/2024/jan')).toBe(3)
    expect(await call('FSMkDir', sid, h, 'docs/2024')).toBe(0)
    for (const name of ['b.txt', 'a.txt', 'c.txt', 'Z.txt']) await put(node, sid, h, `docs/${name}`, name)
    const d = await open(h, 'docs', O.RDONLY)
    const page1 = (await call('MFReaddir', d, 2)) as { name: string; isDir: boolean; size: number; mode: number }[]
    const page2 = (await call('MFReaddir', d, 2)) as typeof page1
    const page3 = (await call('MFReaddir', d, 2)) as typeof page1
    expect([...page1, ...page2, ...page3].map((e) => e.name)).toEqual(['2024', 'Z.txt', 'a.txt', 'b.txt', 'c.txt'])
    expect(await call('MFReaddir', d, 2)).toEqual([])
    expect(page1[0]).toMatchObject({ isDir: true, size: 0, mode: 0x80000000 + 0o755 })
    expect(page1[1]).toMatchObject({ isDir: false, size: 5, mode: 0o644 })
    const all = (await call('MFReaddir', await open(h, '/', O.RDONLY), 0)) as { name: string }[]
    expect(all.map((e) => e.name)).toEqual(['docs'])
    expect(await call('MFStat', await open(h, '', O.RDONLY))).toMatchObject({ name: '/', isDir: true })
    expect(await call('MFGetMimeType', d)).toBe('inode/directory')
    expect(await failure(call('MFGetData', d, 0, 1))).toContain('cannot read a directory; list it with MFReaddir')
    expect(await failure(open(h, 'docs', O.RDWR))).toContain('"docs" is a directory')
    expect(await failure(call('MFReaddir', await open(h, 'docs/a.txt', O.RDONLY), 1))).toContain('MFReaddir needs a directory')
    expect(await failure(open(h, 'nodir/x', O.WRONLY | O.CREATE))).toBe('NotFound: directory "nodir" does not exist; create it first with FSMkDir')
    expect(await failure(call('FSMkDir', sid, h, 'docs/a.txt/sub'))).toBe('InvalidParams: "docs/a.txt" is a file, not a directory')
    expect(await failure(open(h, 'docs/a.txt/x', O.WRONLY | O.CREATE))).toContain('is a file, not a directory')
    expect(usage(node, mid).bytes).toBe(5 + 5 + 5 + 5)
  })

  test('FSRename moves files and trees; open handles follow; a file replaces a file', async () => {
    const { h, mid } = await fileMiMei(node, sid)
    await call('FSMkDir', sid, h, 'src/deep')
    await put(node, sid, h, 'src/deep/x', 'xx')
    await put(node, sid, h, 'src/y', 'yyy')
    await put(node, sid, h, 'target', 'tttt')
    const held = await open(h, 'src/deep/x', O.RDWR)
    expect(await call('FSRename', sid, h, 'src', 'dst')).toBe(true)
    expect(text(await get(node, sid, h, 'dst/deep/x'))).toBe('xx')
    expect(await failure(open(h, 'src/y', O.RDONLY))).toStartWith('NotFound')
    expect(text(await call('MFGetData', held, 0, 10))).toBe('xx')
    expect(await call('MFStat', held)).toMatchObject({ name: 'x' })
    await call('FSRename', sid, h, 'dst/y', 'target')
    expect(text(await get(node, sid, h, 'target'))).toBe('yyy')
    expect(usage(node, mid).bytes).toBe(2 + 3)
    expect(await failure(call('FSRename', sid, h, 'dst', 'dst/deep/inner'))).toContain('into itself')
    expect(await failure(call('FSRename', sid, h, 'target', 'dst'))).toStartWith('Conflict: "dst" already exists')
    expect(await failure(call('FSRename', sid, h, 'nothing', 'n2'))).toStartWith('NotFound')
    expect(await failure(call('FSRename', sid, h, '', 'n2'))).toContain('the root cannot be renamed')
    expect(await failure(call('FSRename', sid, h, 'target', 'missing/t'))).toContain('does not exist')
  })

  test('FSRemoveAll removes a tree and its bytes; handles of removed files go stale', async () => {
    const { h, mid } = await fileMiMei(node, sid)
    await call('FSMkDir', sid, h, 'tree/a/b')
    await put(node, sid, h, 'tree/a/b/f1', '12345')
    await put(node, sid, h, 'tree/f2', '123')
    await put(node, sid, h, 'keep', '1')
    const held = await open(h, 'tree/f2', O.RDONLY)
    const disk = join(node.dataDir, 'files', String(node.mimei.row(mid).id))
    expect(readdirSync(disk)).toHaveLength(3)
    expect(await call('FSRemoveAll', sid, h, 'tree')).toBe(5)
    expect(await call('FSRemoveAll', sid, h, 'tree')).toBe(0)
    expect(readdirSync(disk)).toHaveLength(1)
    expect(usage(node, mid).bytes).toBe(1)
    expect(await failure(call('MFGetData', held, 0, 1))).toContain('the file of this handle was removed')
    expect(await failure(call('FSRemoveAll', sid, h, '/'))).toContain('the root cannot be removed')
  })
})

describe('paths', () => {
  test('normalized; ".." may not climb above the root; NUL and oversize names refused', async () => {
    const { h } = await fileMiMei(node, sid)
    await call('FSMkDir', sid, h, 'a')
    await put(node, sid, h, '//a/./b.txt', 'B')
    expect(text(await get(node, sid, h, 'a/b.txt'))).toBe('B')
    expect(text(await get(node, sid, h, '/a/../a/b.txt'))).toBe('B')
    for (const evil of ['..', '../x', '/../../etc/passwd', 'a/../../x', 'a/b.txt/../../../x']) {
      expect(await failure(open(h, evil, O.RDONLY))).toContain('climbs above the root of the MiMei')
      expect(await failure(call('FSMkDir', sid, h, evil))).toStartWith('InvalidParams')
      expect(await failure(call('FSRename', sid, h, 'a/b.txt', evil))).toStartWith('InvalidParams')
      expect(await failure(call('FSRemoveAll', sid, h, evil))).toStartWith('InvalidParams')
    }
    expect(await failure(open(h, 'a\0b', O.WRONLY | O.CREATE))).toBe('InvalidParams: a path must not contain NUL characters')
    expect(await failure(open(h, 'x'.repeat(256), O.WRONLY | O.CREATE))).toContain('at most 255 bytes')
    expect(await failure(open(h, 'a/'.repeat(2100), O.RDONLY))).toContain('at most 4096 bytes')
    // Names never reach the OS: these are ordinary names inside the tree.
    await put(node, sid, h, 'a/..\\..\\x', 'w')
    expect(text(await get(node, sid, h, 'a/..\\..\\x'))).toBe('w')
  })
})

describe('rights and quotas', () => {
  test('without the write right a handle reads but cannot write; without read nothing opens', async () => {
    const { h, mid } = await fileMiMei(node, sid)
    await put(node, sid, h, 'doc', 'secret')
    const other = await newUser(node)
    expect(await failure(call('MMOpen', other, mid, 'cur'))).toStartWith('PermissionDenied')
    const userId = ((await call('WhoAmI', other)) as { userid: string }).userid
    await call('MMSetRight', sid, mid, userId, 1)
    const ro = (await call('MMOpen', other, mid, 'cur')) as string
    expect(text(await get(node, other, ro, 'doc'))).toBe('secret')
    expect(await failure(call('MFOpenByPath', other, ro, 'doc', O.RDWR))).toContain('lacks the write right on MiMei')
    expect(await failure(call('MFOpenByPath', other, ro, 'new', O.RDONLY | O.CREATE))).toStartWith('PermissionDenied')
    expect(await failure(call('FSMkDir', other, ro, 'd'))).toStartWith('PermissionDenied')
    expect(await failure(call('FSRename', other, ro, 'doc', 'doc2'))).toStartWith('PermissionDenied')
    expect(await failure(call('FSRemoveAll', other, ro, 'doc'))).toStartWith('PermissionDenied')
    expect(text(await get(node, sid, h, 'doc'))).toBe('secret')
  })

  test('a write past the quota is refused and changes nothing', async () => {
    await using small = await bootTest({ quotaUserBytes: 1000 })
    const owner = await login(small)
    const { h, mid } = await fileMiMei(small, owner)
    const f = (await callLocal(small, 'MFOpenByPath', owner, h, 'q', O.RDWR | O.CREATE)) as string
    await callLocal(small, 'MFSetData', f, new Uint8Array(900).fill(1), 0)
    const before = usage(small, mid)
    expect(await failure(callLocal(small, 'MFSetData', f, new Uint8Array(200).fill(2), 850))).toStartWith('QuotaExceeded')
    expect(await failure(callLocal(small, 'MFTruncate', f, 2000))).toStartWith('QuotaExceeded')
    expect(usage(small, mid)).toEqual(before)
    const data = (await callLocal(small, 'MFGetData', f, 0, 2000)) as Uint8Array
    expect(data.length).toBe(900)
    expect(data.every((b) => b === 1)).toBe(true)
    // Overwriting in place does not grow the data, so it is allowed.
    expect(await callLocal(small, 'MFSetData', f, new Uint8Array(100).fill(3), 0)).toBe(100)
  })
})

describe('temp and mac files', () => {
  const payload = new Uint8Array(600 * 1024).map((_, i) => (i * 7) % 251)

  test('a temp file commits to content-addressed blocks, stored once', async () => {
    expect(await failure(call('MFOpenTempFile', ''))).toStartWith('PermissionDenied')
    const commit = async () => {
      const t = (await call('MFOpenTempFile', sid)) as string
      await call('MFSetData', t, payload.subarray(0, 300_000), 0)
      await call('MFSetData', t, payload.subarray(300_000), 300_000)
      const cid = (await call('MFTemp2MacFile', t)) as string
      await call('MFClose', t)
      return cid
    }
    const blockCount = () => (node.store.db.query('SELECT count(*) AS n FROM blocks').get() as { n: number }).n
    const before = blockCount()
    const cid = await commit()
    expect(cid).toStartWith('bafyrei') // CIDv1, dag-cbor, sha2-256
    expect(blockCount()).toBe(before + 4) // three chunks (256 + 256 + 88 KiB) and the manifest
    expect(await commit()).toBe(cid)
    expect(blockCount()).toBe(before + 4)
    const f = (await call('MFOpenMacFile', sid, cid)) as string
    expect(await call('MFGetData', f, 0, 1 << 20)).toEqual(payload)
    expect(await call('MFGetData', f, 262_000, 1000)).toEqual(payload.subarray(262_000, 263_000))
    expect(await call('MFGetData', f, -10, 100)).toEqual(payload.subarray(-10))
    expect(await call('MFStat', f)).toMatchObject({ name: cid, size: payload.length, isDir: false, cid })
    expect(await failure(call('MFSetData', f, 'x', 0))).toStartWith('PermissionDenied')
    // Through MFOpenByPath a mac file needs some open MiMei handle of the caller's.
    const anyHandle = (await fileMiMei(node, sid)).h
    const viaPath = (await call('MFOpenByPath', sid, anyHandle, `mac://${cid}`, O.RDONLY)) as string
    expect(await call('MFGetSize', viaPath)).toBe(payload.length)
    expect(await failure(call('MFOpenByPath', sid, anyHandle, `mac://${cid}`, O.RDWR))).toContain('mac files are read-only')
    // Pinned: gc keeps them.
    node.mimei.gc(-1)
    expect(await call('MFGetData', f, -3, 3)).toEqual(payload.subarray(-3))
  })

  test('unknown and malformed content ids; temp files vanish when closed or expired', async () => {
    expect(await failure(call('MFOpenMacFile', '', 'not-a-cid'))).toStartWith('NotFound: "not-a-cid" is not a content id')
    expect(await failure(call('MFOpenMacFile', '', 'bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmi7pvjb5u'))).toStartWith('NotFound: file bafy')
    const t = (await call('MFOpenTempFile', sid)) as string
    await call('MFSetData', t, 'abc', 0)
    const raw = node.mimei.blocks.put(bytes('raw block'))
    expect(await failure(call('MFOpenMacFile', '', raw))).toContain('is a raw block, not a file')
    const tmp = join(node.dataDir, 'tmp')
    const closed = (await call('MFStat', t)) as { name: string; size: number; isDir: boolean }
    expect(closed).toMatchObject({ size: 3, isDir: false })
    expect(closed.name).toStartWith('upload-')
    expect(closed.name).not.toContain(t) // the handle id is a secret; it is no file name
    expect(existsSync(join(tmp, closed.name))).toBe(true)
    expect(await call('MFClose', t)).toBe(true)
    expect(await call('MFClose', t)).toBe(false)
    expect(existsSync(join(tmp, closed.name))).toBe(false)
    const idle = (await call('MFOpenTempFile', sid)) as string
    const expired = ((await call('MFStat', idle)) as { name: string }).name
    expect(existsSync(join(tmp, expired))).toBe(true)
    node.mimei.files.sweep(-1)
    expect(existsSync(join(tmp, expired))).toBe(false)
    expect(await failure(call('MFGetData', idle, 0, 1))).toStartWith('NotFound: unknown or expired file handle')
    expect(await failure(call('MFTemp2MacFile', await open((await fileMiMei(node, sid)).h, 'plain.txt', O.RDWR | O.CREATE)))).toContain('takes a handle from MFOpenTempFile')
  })

  test('media types: by extension, else sniffed', async () => {
    const { h } = await fileMiMei(node, sid)
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])
    const cases: [string, string | Uint8Array, string][] = [
      ['index.html', 'hi', 'text/html;charset=utf-8'],
      ['app.js', '1', 'text/javascript;charset=utf-8'],
      ['picture', png, 'image/png'],
      ['page', '  <!DOCTYPE html><p>', 'text/html;charset=utf-8'],
      ['notes', 'plain words, ünïcode', 'text/plain;charset=utf-8'],
      ['blob', new Uint8Array([1, 2, 3, 0, 255]), 'application/octet-stream'],
    ]
    for (const [name, content, type] of cases) {
      await put(node, sid, h, name, content)
      expect(await call('MFGetMimeType', await open(h, name, O.RDONLY))).toBe(type)
    }
  })
})
