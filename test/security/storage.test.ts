// Defect 3: quotas did not limit storage. Every stored byte is now charged to a user (cur,
// versions, mac and temp files, the inbox, replicas), who may store at all is the owner's
// decision, and the node refuses writes past its own limit or the disk's floor.
import { describe, expect, test } from 'bun:test'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { cli, startNode, tempDir } from '../helpers/node.ts'

const KiB = 1024
const MiB = 1024 * KiB
const login = async (node: TestKernel, key?: KeyPair) => ((await callLocal(node, 'Login', loginPassport(node, key))) as { sid: string }).sid
const call = (node: TestKernel, name: string, ...args: unknown[]) => callLocal(node, name, ...args)

/** Writes `bytes` into a temp file of `sid` in 256 KiB calls and commits it as a mac file. */
async function macFile(node: TestKernel, sid: string, bytes: number, fill = 7): Promise<string> {
  const t = (await call(node, 'MFOpenTempFile', sid)) as string
  for (let at = 0; at < bytes; at += 256 * KiB) await call(node, 'MFSetData', t, new Uint8Array(Math.min(256 * KiB, bytes - at)).fill(fill), at)
  const cid = (await call(node, 'MFTemp2MacFile', t)) as string
  await call(node, 'MFClose', t)
  return cid
}

describe('who may store (storageOpen: false, the default)', () => {
  test('a fresh key logs in but stores nothing until the owner admits it; removed, it stores nothing again', async () => {
    await using node = await bootTest({ storageOpen: false })
    const owner = await login(node)
    const key = generateKeyPair()
    const stranger = await login(node, key)
    const advice = `ask the owner to run: leither user admit ${key.id}`
    expect(await failure(call(node, 'MMCreate', stranger, 'app', 'db', 'm', 2))).toBe(`PermissionDenied: this node stores data only for its owner and the users the owner admitted; ${advice}`)
    expect(await failure(call(node, 'MFOpenTempFile', stranger))).toContain(advice)
    expect(await failure(call(node, 'MMOpenAppData', stranger, 'weibo', 'user'))).toContain(advice)
    // A second fresh key gets no fresh quota: it gets nothing.
    expect(await failure(call(node, 'MMCreate', await login(node, generateKeyPair()), 'app', 'db', 'm', 2))).toStartWith('PermissionDenied')

    expect(await call(node, 'UserAdmit', owner, key.id, 2 * MiB)).toMatchObject({ userId: key.id, quotaBytes: 2 * MiB, usage: { total: 0 } })
    const mid = (await call(node, 'MMCreate', stranger, 'app', 'db', 'm', 2)) as string
    const h = (await call(node, 'MMOpen', stranger, mid)) as string
    expect(await call(node, 'Set', h, 'k', 'admitted')).toBe(true)
    const listed = (await call(node, 'UserList', owner)) as { userId: string; usage: { cur: number } }[]
    expect(listed.map((u) => u.userId)).toEqual([node.config.owner, key.id])
    expect(listed[1].usage.cur).toBeGreaterThan(0)

    expect(await call(node, 'UserRemove', owner, key.id)).toBe(true)
    expect(await failure(call(node, 'Set', h, 'k', 'after removal'))).toContain(advice)
    expect(await call(node, 'Get', h, 'k')).toBe('admitted')
    expect(await failure(call(node, 'UserAdmit', stranger, key.id))).toStartWith('PermissionDenied')
  })

  test('a guest never stores, even in a MiMei everyone may write', async () => {
    await using node = await bootTest({ storageOpen: true })
    const alice = await login(node, generateKeyPair())
    const mid = (await call(node, 'MMCreate', alice, 'app', 'board', 'm', 2, 3)) as string
    const guest = (await call(node, 'MMOpen', '', mid)) as string
    expect(await failure(call(node, 'Rpush', guest, 'posts', 'spam'))).toStartWith('PermissionDenied: a guest lacks the write right')
    expect(await failure(call(node, 'MFOpenTempFile', ''))).toStartWith('PermissionDenied')
  })
})

describe('everything stored counts against the quota', () => {
  test('numbered versions: 4 × 900 KiB versions do not fit in 1 MiB', async () => {
    await using node = await bootTest({ storageOpen: false })
    const owner = await login(node)
    const key = generateKeyPair()
    await call(node, 'UserAdmit', owner, key.id, 1 * MiB)
    const sid = await login(node, key)
    const mid = (await call(node, 'MMCreate', sid, 'app', 'db', 'versions', 2)) as string
    const h = (await call(node, 'MMOpen', sid, mid)) as string
    await call(node, 'Set', h, 'blob', new Uint8Array(450 * KiB))
    expect(await call(node, 'MMBackup', sid, mid)).toBe(1) // 450 KiB cur + 450 KiB version
    expect(await failure(call(node, 'MMBackup', sid, mid))).toStartWith(`QuotaExceeded: user ${key.id} would store`)
    expect(((await call(node, 'GetVar', sid, 'mmversions', mid)) as { versions: unknown[] }).versions).toHaveLength(1)
    // Deleting the version frees its share.
    await call(node, 'MMDelVers', sid, mid, 1)
    expect(await call(node, 'MMBackup', sid, mid)).toBe(2)
  })

  test('temp and mac files: 3 × 15 MiB mac files do not fit in 1 MiB, and the temp upload is stopped where it enters', async () => {
    await using node = await bootTest({ storageOpen: false })
    const owner = await login(node)
    const key = generateKeyPair()
    await call(node, 'UserAdmit', owner, key.id, 1 * MiB)
    const sid = await login(node, key)
    await macFile(node, sid, 600 * KiB)
    const t = (await call(node, 'MFOpenTempFile', sid)) as string
    // 600 KiB committed + 256 KiB staged fit; the next 256 KiB do not.
    await call(node, 'MFSetData', t, new Uint8Array(256 * KiB), 0)
    expect(await failure(call(node, 'MFSetData', t, new Uint8Array(256 * KiB), 256 * KiB))).toStartWith('QuotaExceeded')
    expect(await failure(call(node, 'MFTruncate', t, 15 * MiB))).toStartWith('QuotaExceeded')
    expect(await call(node, 'MFGetSize', t)).toBe(256 * KiB)
    const usage = ((await call(node, 'UserList', owner)) as { userId: string; usage: { mac: number; temp: number } }[]).find((u) => u.userId === key.id)!.usage
    expect(usage).toMatchObject({ mac: 600 * KiB, temp: 256 * KiB })
  })

  test('mac files are unpinned once their pin runs out and nothing references them; MMGc then frees them', async () => {
    await using node = await bootTest()
    const owner = await login(node)
    const kept = await macFile(node, owner, 300 * KiB, 1)
    const dropped = await macFile(node, owner, 300 * KiB, 2)
    // A MiMei references the first one: it stays.
    const mid = (await call(node, 'MMCreate', owner, 'app', 'refs', 'm', 2)) as string
    await call(node, 'MMAddRef', owner, mid, kept)
    node.store.db.query('UPDATE mac_files SET pinned_until = 0').run()
    const freed = (await call(node, 'MMGc', owner, 0)) as { blocks: number; bytes: number }
    // The dropped file only: its 256 KiB and 44 KiB chunks and its manifest.
    expect(freed.blocks).toBe(3)
    expect(await failure(call(node, 'MFOpenMacFile', owner, dropped))).toStartWith('NotFound')
    // The referenced one whole, chunks included.
    const f = (await call(node, 'MFOpenMacFile', owner, kept)) as string
    expect(await call(node, 'MFGetData', f, 0, 400 * KiB)).toEqual(new Uint8Array(300 * KiB).fill(1))
  })
})

describe('the node as a whole', () => {
  test('storageMaxBytes: users each within their quota still cannot pass the node limit', async () => {
    await using node = await bootTest({ storageMaxBytes: 1 * MiB })
    const a = await login(node, generateKeyPair())
    const b = await login(node, generateKeyPair())
    const ha = (await call(node, 'MMOpen', a, await call(node, 'MMCreate', a, 'app', 'db', 'm', 2))) as string
    const hb = (await call(node, 'MMOpen', b, await call(node, 'MMCreate', b, 'app', 'db', 'm', 2))) as string
    await call(node, 'Set', ha, 'k', new Uint8Array(600 * KiB))
    expect(await failure(call(node, 'Set', hb, 'k', new Uint8Array(600 * KiB)))).toStartWith(`QuotaExceeded: this node stores at most ${MiB} bytes (config storageMaxBytes)`)
    expect(await call(node, 'Get', hb, 'k')).toBe(null)
  })

  test('a free-disk floor refuses writes with DiskFull before the disk fills', async () => {
    await using node = await bootTest({ storageMinFreeBytes: Number.MAX_SAFE_INTEGER })
    const sid = await login(node)
    const mid = (await call(node, 'MMCreate', sid, 'app', 'db', 'm', 2)) as string
    const h = (await call(node, 'MMOpen', sid, mid)) as string
    expect(await failure(call(node, 'Set', h, 'k', 'v'))).toStartWith('DiskFull: the disk of this node has')
    expect(await failure(call(node, 'MFOpenTempFile', sid).then((t) => call(node, 'MFSetData', t, 'x', 0)))).toStartWith('DiskFull')
    // Deleting still works: it frees space.
    expect(await call(node, 'Del', h, 'k')).toBe(0)
  })
})

describe('leither user admit | list | remove', () => {
  test('through a running node', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1', '--offline'])
    const carol = generateKeyPair().id
    const admit = await cli(['user', 'admit', carol, '--quota', '2MiB', '--data', dir, '--node', node.url])
    expect(admit.stderr).toBe('')
    expect(admit.stdout).toContain(`admitted ${carol}: may store data here (quota: 2.0 MiB`)
    const list = await cli(['user', 'list', '--json', '--data', dir, '--node', node.url])
    expect((JSON.parse(list.stdout) as { userId: string; quotaBytes: number }[]).find((u) => u.userId === carol)?.quotaBytes).toBe(2 * MiB)
    const text = await cli(['user', 'list', '--data', dir, '--node', node.url])
    expect(text.stdout.split('\n')[0]).toMatch(/^USER\s+ADMITTED\s+QUOTA\s+STORES$/)
    expect((await cli(['user', 'remove', carol, '--data', dir, '--node', node.url])).stdout).toContain(`removed ${carol}`)
    expect((await cli(['user', 'remove', carol, '--data', dir, '--node', node.url])).stdout).toContain('was not admitted')
    const bad = await cli(['user', 'admit', carol, '--quota', 'lots', '--data', dir, '--node', node.url])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--quota must be a size')
  })
})
