// The dispatcher, driven by the syscall tables: deny twins for every guarded row, and argument checks.
import { describe, expect, test, beforeAll, afterAll } from 'bun:test'
import { SYSCALL_TABLES } from '../../syscalls/index.ts'
import type { ParamType, SyscallRow } from '../../runtime/rpc/syscall.ts'
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

describe('deny twins (one per guarded syscall, from the table)', () => {
  for (const row of ROWS.filter((r) => r.capability !== 'public')) {
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
    expect(s.errors).toBeGreaterThanOrEqual(1)
    expect(s.maxMs).toBeGreaterThanOrEqual(0)
  })
})

describe('user family', () => {
  test('Sign and Verify round-trip with the owner key; a changed message fails', async () => {
    const sig = (await callLocal(node, 'Sign', ownerSid, 'hello')) as Uint8Array
    expect(sig).toBeInstanceOf(Uint8Array)
    expect(sig.length).toBe(64)
    const pk = (await callLocal(node, 'GetVar', ownerSid, 'nodepk')) as string
    expect(pk).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const owner = (await import('../helpers/kernel.ts')).ownerKey(node)
    expect(await callLocal(node, 'Verify', '', owner.publicKey, 'hello', sig)).toEqual({ valid: true, signer: owner.id })
    expect(await callLocal(node, 'Verify', '', Buffer.from(owner.publicKey).toString('base64url'), 'hellO', sig)).toEqual({ valid: false, signer: owner.id })
    expect(await failure(callLocal(node, 'Verify', '', 'short', 'x', sig))).toStartWith('InvalidParams')
  })

  test('GetVar userid is the caller; guests get ""; unknown names list the known ones', async () => {
    expect(await callLocal(node, 'GetVar', ownerSid, 'userid')).toBe(node.config.owner)
    expect(await callLocal(node, 'GetVar', '', 'userid')).toBe('')
    expect(await callLocal(node, 'GetVar', '', 'nodeid')).toBe(node.identity.nodeId)
    expect(await failure(callLocal(node, 'GetVar', '', 'secret'))).toContain('known: ver, nodeid, peerid, now, port, nodeaddrs, userid, nodepk, mminfo, mmversions, mmprovs')
  })

  test('SignPPT refuses bad periods and non-string data', async () => {
    expect(await failure(callLocal(node, 'SignPPT', ownerSid, {}, 0))).toContain('period must be 1..10080')
    expect(await failure(callLocal(node, 'SignPPT', ownerSid, { n: 1 }, 5))).toContain('data.n must be a string')
  })
})
