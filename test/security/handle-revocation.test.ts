// Defect 5: a handle used to keep the rights its opener had at open, outlive Logout, and work
// under anyone's sid. Now it is bound to the opener's session and rights are checked on each use.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let alice: string
const login = async () => ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
const idOf = async (sid: string) => ((await callLocal(node, 'WhoAmI', sid)) as { userid: string }).userid

beforeAll(async () => {
  node = await bootTest()
  alice = await login()
})
afterAll(() => node.stop())

async function sharedDb(bits: number) {
  const bob = await login()
  const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'db', '{{auto}}', 2)) as string
  await callLocal(node, 'MMSetRight', alice, mid, await idOf(bob), bits)
  return { bob, mid, h: (await callLocal(node, 'MMOpen', bob, mid)) as string }
}

async function sharedFiles() {
  const bob = await login()
  const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'files', '{{auto}}', 1)) as string
  await callLocal(node, 'MMSetRight', alice, mid, await idOf(bob), 3)
  const h = (await callLocal(node, 'MMOpen', bob, mid)) as string
  const f = (await callLocal(node, 'MFOpenByPath', bob, h, 'notes.txt', 0x40 | 2)) as string
  return { bob, mid, h, f }
}

describe('rights are checked on every write, not only at open', () => {
  test('MMSetRight(…, 0): the old handle can neither write nor read', async () => {
    const { mid, h, bob } = await sharedDb(3)
    expect(await callLocal(node, 'Set', h, 'k', 'by bob')).toBe(true)
    await callLocal(node, 'MMSetRight', alice, mid, await idOf(bob), 0)
    expect(await failure(callLocal(node, 'Set', h, 'k', 'after revoke'))).toStartWith(`PermissionDenied: the read right on MiMei ${mid} was taken away`)
    expect(await failure(callLocal(node, 'Get', h, 'k'))).toStartWith('PermissionDenied')
    const own = (await callLocal(node, 'MMOpen', alice, mid)) as string
    expect(await callLocal(node, 'Get', own, 'k')).toBe('by bob')
  })

  test('write taken away, read kept: the handle reads but no longer writes, files and directories included', async () => {
    const { mid, h, f, bob } = await sharedFiles()
    await callLocal(node, 'MFSetData', f, 'one', 0)
    await callLocal(node, 'MMSetRight', alice, mid, await idOf(bob), 1)
    expect(await failure(callLocal(node, 'MFSetData', f, 'two', 0))).toContain('lacks the write right')
    expect(await failure(callLocal(node, 'FSMkDir', bob, h, 'dir'))).toContain('lacks the write right')
    expect(new TextDecoder().decode((await callLocal(node, 'MFGetData', f, 0, 10)) as Uint8Array)).toBe('one')
  })

  test('a transaction queued before the revocation does not commit after it', async () => {
    const { mid, h, bob } = await sharedDb(3)
    await callLocal(node, 'Begin', h, 60)
    expect(await callLocal(node, 'Set', h, 'k', 'queued')).toBe('QUEUED')
    await callLocal(node, 'MMSetRight', alice, mid, await idOf(bob), 1)
    expect(await failure(callLocal(node, 'Commit', h))).toContain('lacks the write right')
    const own = (await callLocal(node, 'MMOpen', alice, mid)) as string
    expect(await callLocal(node, 'Get', own, 'k')).toBe(null)
  })
})

describe('handles belong to the session that opened them', () => {
  test('after Logout the handles of that session are closed: Set, MFSetData, FSMkDir all refused', async () => {
    const db = await sharedDb(3)
    const files = await sharedFiles()
    await callLocal(node, 'Logout', db.bob)
    await callLocal(node, 'Logout', files.bob)
    expect(await failure(callLocal(node, 'Set', db.h, 'k', 'after logout'))).toStartWith('PermissionDenied: the session that opened this handle has ended')
    expect(await failure(callLocal(node, 'MFSetData', files.f, 'x', 0))).toStartWith('PermissionDenied: the session that opened this handle has ended')
    expect(await failure(callLocal(node, 'FSMkDir', '', files.h, 'dir'))).toStartWith('PermissionDenied: the session that opened this handle has ended')
  })

  test('a handle does not work under a guest sid or another user\u2019s sid', async () => {
    const { h, f } = await sharedFiles()
    const mallory = await login()
    expect(await failure(callLocal(node, 'FSMkDir', '', h, 'dir'))).toContain('this handle was opened by another user')
    expect(await failure(callLocal(node, 'FSMkDir', mallory, h, 'dir'))).toContain('this handle was opened by another user')
    expect(await failure(callLocal(node, 'MFOpenByPath', mallory, h, 'notes.txt', 2))).toContain('this handle was opened by another user')
    // The file itself was not touched by those attempts.
    expect(await callLocal(node, 'MFGetSize', f)).toBe(0)
  })

  test('every denial is audited, rights checks included', async () => {
    await using audited = await bootTest({ logLevel: 'info' })
    const sid = async () => ((await callLocal(audited, 'Login', loginPassport(audited, generateKeyPair()))) as { sid: string }).sid
    const [owner, bob] = [await sid(), await sid()]
    const bobId = ((await callLocal(audited, 'WhoAmI', bob)) as { userid: string }).userid
    const mid = (await callLocal(audited, 'MMCreate', owner, 'app', 'db', '{{auto}}', 2)) as string
    await callLocal(audited, 'MMSetRight', owner, mid, bobId, 3)
    const h = (await callLocal(audited, 'MMOpen', bob, mid)) as string
    await callLocal(audited, 'MMSetRight', owner, mid, bobId, 1)
    await failure(callLocal(audited, 'Set', h, 'k', 1)) // the rights check
    await failure(callLocal(audited, 'MMBackup', bob, mid)) // a store's rights check
    await failure(callLocal(audited, 'MMGc', bob)) // the capability check
    const dir = join(audited.dataDir, 'logs')
    const lines = readdirSync(dir).flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    const denied = (call: string) => lines.filter((l) => l.includes('denied') && l.includes(call) && l.includes(bobId))
    expect(denied('Set')).toHaveLength(1)
    expect(denied('MMBackup')).toHaveLength(1)
    expect(denied('MMGc')).toHaveLength(1)
    // Never the secret: neither the sid nor the handle id appears in the log.
    expect(lines.some((l) => l.includes(bob) || l.includes(h))).toBe(false)
  })
})
