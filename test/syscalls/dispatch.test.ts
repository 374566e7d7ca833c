// The dispatcher, driven by the syscall tables: deny twins for every guarded row, and argument checks.
import { describe, expect, test, beforeAll, afterAll } from 'bun:test'
import { SYSCALL_TABLES } from '../../syscalls/index.ts'
import type { ParamType, SyscallRow } from '../../syscalls/row.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

const SAMPLE: Record<ParamType, unknown> = {
  string: 'x',
  int: 1,
  number: 1.5,
  bool: true,
  bytes: new Uint8Array([1]),
  data: 'x',
  map: { a: 'b' },
  list: [1],
  any: 'x',
}

/** Wire arguments that pass validation for the row, after the sid. */
const validArgs = (row: SyscallRow) => row.params.filter((p) => !p.optional && !p.rest).map((p) => SAMPLE[p.type])

const ROWS = SYSCALL_TABLES.flat()

let node: TestKernel
let userSid: string
let ownerSid: string
beforeAll(async () => {
  node = await bootTest()
  userSid = ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
  ownerSid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
})
afterAll(() => node.stop())

/**
 * The rows anyone may call without a session, reviewed one by one. A row that turns public (or
 * stops being public) fails the first test below until this list is reviewed with it.
 */
const REVIEWED_PUBLIC: Record<string, string> = {
  Login: 'how a session starts',
  GetVar: 'public variables; per-MiMei ones check the read right inside',
  Verify: 'checks a signature against a given key; no node data',
  VerifyPPT: 'checks a passport; no node data',
  WhoAmI: 'tells a guest it is a guest',
  Echo: 'protocol probe',
  SysInfo: 'version and uptime, as the status page shows',
  MMOpen: 'checks the read right on the MiMei (everyone-readable MiMei are open to guests)',
  MMClose: 'gives up a handle; knowing its 128-bit id is enough',
  MMSum: 'checks the read right on the MiMei',
  MMGetRefs: 'checks the read right on the MiMei',
  MMGetRight: 'checks the read right on the MiMei',
  MFOpenMacFile: 'content-addressed: whoever knows the CID may read it, as on IPFS',
  CodeLogin: 'trades a one-time code (from a logged-in user) for a session; the code is the credential',
  MFClose: 'gives up a handle; knowing its 128-bit id is enough',
  MiMeiSyncStatus: 'progress of a sync by its id',
  SwarmAddrs: "the node's own listen addresses, as GetVar nodeaddrs",
  DhtNetworkSize: 'an estimate from the local routing table; no walk',
}

const HANDLE_ROWS = ROWS.filter((r) => r.handle !== undefined)

describe('the public rows are the reviewed ones', () => {
  test('every public row is on the reviewed list, and the list has no stale names', () => {
    const publicRows = ROWS.filter((r) => r.capability === 'public').map((r) => r.name).sort()
    expect(publicRows).toEqual(Object.keys(REVIEWED_PUBLIC).sort())
  })
  test('every row that names a handle first declares its access (handle.read / handle.write)', () => {
    const named = ROWS.filter((r) => /^(handle|fsid|mmHandle)$/.test(r.params[0]?.name ?? '') && !['MMClose', 'MFClose'].includes(r.name))
    expect(named.filter((r) => r.handle === undefined).map((r) => r.name)).toEqual([])
    expect(HANDLE_ROWS.length).toBe(named.length)
  })
})

describe('deny twins (one per guarded syscall, from the table)', () => {
  for (const row of ROWS.filter((r) => r.capability !== 'public' && r.handle === undefined)) {
    test(`${row.name} as a guest → PermissionDenied naming ${row.capability}`, async () => {
      const text = await failure(callLocal(node, row.name, ...(row.sid ? [''] : []), ...validArgs(row)))
      expect(text).toStartWith('PermissionDenied: ')
      expect(text).toContain(row.capability)
      expect(text).toContain('Login')
    })
  }
  for (const row of ROWS.filter((r) => r.capability === 'node.admin')) {
    test(`${row.name} as a plain user → PermissionDenied; as the owner it is allowed`, async () => {
      expect(await failure(callLocal(node, row.name, userSid, ...validArgs(row)))).toStartWith('PermissionDenied: ')
      await callLocal(node, row.name, ownerSid, ...validArgs(row)).catch((err) => {
        expect(String(err.wireText?.() ?? err)).not.toStartWith('PermissionDenied')
      })
    })
  }
  test('a guest is refused before its arguments are looked at', async () => {
    expect(await failure(callLocal(node, 'MonitorStats', '', 'unexpected', 'extra'))).toStartWith('PermissionDenied')
  })
})

/**
 * Handle rows: the handle is the credential, so the twins take it away in every way a real
 * handle loses its power — opened without the right, the right revoked after opening, the
 * opener logged out, or used under another user's sid.
 */
describe('handle twins (one per handle row and way of losing access, from the table)', () => {
  const DB = 2
  const FILE = 1
  const isFileRow = (r: SyscallRow) => r.handle === 'file' || r.name.startsWith('FS') || r.name === 'MFOpenByPath'
  let alice: string
  beforeAll(async () => {
    alice = ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
  })
  const newUserSid = async () => ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
  const userIdOf = async (sid: string) => ((await callLocal(node, 'WhoAmI', sid)) as { userid: string }).userid

  /** A MiMei of alice's with `who` holding `bits`, and `who`'s handle on it (a file handle for file rows). */
  async function handleFor(row: SyscallRow, who: string, bits: number, fileFlag = 2) {
    const type = isFileRow(row) ? FILE : DB
    const mid = (await callLocal(node, 'MMCreate', alice, 'twins', row.name, '{{auto}}', type)) as string
    const own = (await callLocal(node, 'MMOpen', alice, mid)) as string
    if (type === FILE) {
      const f = (await callLocal(node, 'MFOpenByPath', alice, own, 'a.txt', 0x40 | 2)) as string
      await callLocal(node, 'MFSetData', f, 'hello', 0)
    }
    await callLocal(node, 'MMSetRight', alice, mid, await userIdOf(who), bits)
    const mm = (await callLocal(node, 'MMOpen', who, mid)) as string
    const handle = row.handle === 'file' ? ((await callLocal(node, 'MFOpenByPath', who, mm, 'a.txt', fileFlag)) as string) : mm
    return { mid, handle }
  }
  const argsWith = (row: SyscallRow, sid: string, handle: string) => [...(row.sid ? [sid] : []), handle, ...validArgs(row).slice(1)]

  for (const row of HANDLE_ROWS.filter((r) => r.capability === 'handle.write')) {
    test(`${row.name} through a handle opened without the write right → PermissionDenied`, async () => {
      const bob = await newUserSid()
      const { handle } = await handleFor(row, bob, 1, 0)
      const text = await failure(callLocal(node, row.name, ...argsWith(row, bob, handle)))
      expect(text).toStartWith('PermissionDenied: ')
      expect(text).toMatch(/lacks the write right|opened read-only/)
    })
    test(`${row.name} after the write right was revoked → PermissionDenied`, async () => {
      const bob = await newUserSid()
      const { mid, handle } = await handleFor(row, bob, 3)
      await callLocal(node, 'MMSetRight', alice, mid, await userIdOf(bob), 1)
      const text = await failure(callLocal(node, row.name, ...argsWith(row, bob, handle)))
      expect(text).toStartWith(`PermissionDenied: ${await userIdOf(bob)} lacks the write right on MiMei ${mid}`)
    })
  }
  for (const row of HANDLE_ROWS.filter((r) => r.capability === 'handle.read')) {
    // A write wrongly flagged as a read would pass every denial above: this one sees it write.
    test(`${row.name} through a read-only handle changes nothing`, async () => {
      const bob = await newUserSid()
      const { mid, handle } = await handleFor(row, bob, 1, 0)
      const state = async () => [await callLocal(node, 'MMSum', alice, mid), node.mimei.row(mid).seq, node.mimei.row(mid).bytes]
      const before = await state()
      await callLocal(node, row.name, ...argsWith(row, bob, handle)).catch(() => undefined)
      expect(await state()).toEqual(before)
    })
  }
  for (const row of HANDLE_ROWS) {
    test(`${row.name} after the read right was revoked → PermissionDenied`, async () => {
      const bob = await newUserSid()
      const { mid, handle } = await handleFor(row, bob, 3)
      await callLocal(node, 'MMSetRight', alice, mid, await userIdOf(bob), 0)
      expect(await failure(callLocal(node, row.name, ...argsWith(row, bob, handle)))).toStartWith(`PermissionDenied: the read right on MiMei ${mid} was taken away`)
    })
    test(`${row.name} after its opener logged out → PermissionDenied`, async () => {
      const bob = await newUserSid()
      const { handle } = await handleFor(row, bob, 3)
      const other = await newUserSid()
      expect(await callLocal(node, 'Logout', bob)).toBe(true)
      // Rows with a sid are tried under a live session: the handle itself must be dead.
      expect(await failure(callLocal(node, row.name, ...argsWith(row, other, handle)))).toStartWith('PermissionDenied: the session that opened this handle has ended')
    })
  }
  for (const row of HANDLE_ROWS.filter((r) => r.sid)) {
    test(`${row.name} with another user's sid than the handle's opener → PermissionDenied`, async () => {
      const bob = await newUserSid()
      const { handle } = await handleFor(row, bob, 3)
      const mallory = await newUserSid()
      expect(await failure(callLocal(node, row.name, ...argsWith(row, mallory, handle)))).toContain('this handle was opened by another user')
      expect(await failure(callLocal(node, row.name, ...argsWith(row, '', handle)))).toContain('this handle was opened by another user')
    })
  }
})

describe('guests', () => {
  test('a guest is refused before its arguments are looked at', async () => {
    expect(await failure(callLocal(node, 'MonitorStats', '', 'unexpected', 'extra'))).toStartWith('PermissionDenied')
  })
})

describe('argument validation', () => {
  test('missing, extra and mistyped arguments name the parameter', async () => {
    expect(await failure(callLocal(node, 'Login'))).toBe('InvalidParams: Login is missing parameter ppt: Login(ppt)')
    expect(await failure(callLocal(node, 'GetVar'))).toContain('InvalidParams: GetVar is missing parameter sid')
    expect(await failure(callLocal(node, 'GetVar', ''))).toContain('missing parameter name')
    expect(await failure(callLocal(node, 'Login', 42))).toBe('InvalidParams: Login: parameter ppt must be a string, got a number')
    expect(await failure(callLocal(node, 'WhoAmI', '', 'extra'))).toContain('WhoAmI takes 1 arguments at most, got 2')
    expect(await failure(callLocal(node, 'SignPPT', ownerSid, { CertFor: 'Self' }, 'ten'))).toContain('parameter period must be an integer, got a string')
    expect(await failure(callLocal(node, 'SignPPT', ownerSid, [1], 10))).toContain('parameter data must be a map, got a list')
  })

  test('BigInt in range is accepted for an int; optional parameters may be null', async () => {
    const ppt = (await callLocal(node, 'SignPPT', ownerSid, { CertFor: 'Self' }, 10n, null)) as string
    expect(((await callLocal(node, 'VerifyPPT', '', ppt)) as { signer: string }).signer).toBe(node.config.owner)
    expect(await failure(callLocal(node, 'SignPPT', ownerSid, {}, 2n ** 60n))).toContain('must be an integer')
  })

  test('names are case-insensitive; unknown names are NotFound', async () => {
    expect(await callLocal(node, 'getvar', '', 'VER')).toBe(await callLocal(node, 'GetVar', '', 'ver'))
    expect(await failure(callLocal(node, 'NoSuchCall'))).toStartWith('NotFound: no syscall NoSuchCall')
  })

  test('every call is counted, failures too', async () => {
    const before = node.dispatcher.stats().get('Echo')?.count ?? 0
    await callLocal(node, 'Echo', 1)
    await callLocal(node, 'Echo', 2)
    await failure(callLocal(node, 'Echo'))
    const s = node.dispatcher.stats().get('Echo')!
    expect(s.count).toBe(before + 3)
    expect(s.errors).toBe((before === 0 ? 0 : s.errors - 1) + 1)
    // A long poll of 1 s with nothing to deliver is the slowest call: the maximum is at least it.
    const sid = ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
    const started = performance.now()
    expect(await callLocal(node, 'PullMsg', sid, 1)).toEqual([])
    const pull = node.dispatcher.stats().get('PullMsg')!
    expect(pull.maxMs).toBeGreaterThanOrEqual(990)
    expect(pull.maxMs).toBeLessThanOrEqual(performance.now() - started + 1)
    expect(pull.totalMs).toBeGreaterThanOrEqual(pull.maxMs)
  })
})
