// The user family (syscalls/user.ts): Sign and Verify, GetVar's per-caller variables, SignPPT's checks.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { bootTest, callLocal, failure, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let ownerSid: string
beforeAll(async () => {
  node = await bootTest()
  ownerSid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
})
afterAll(() => node[Symbol.asyncDispose]())

test('Sign and Verify round-trip with the owner key; a changed message fails', async () => {
  const sig = (await callLocal(node, 'Sign', ownerSid, 'hello')) as Uint8Array
  expect(sig).toBeInstanceOf(Uint8Array)
  expect(sig.length).toBe(64)
  const pk = (await callLocal(node, 'GetVar', ownerSid, 'nodepk')) as string
  expect(pk).toMatch(/^[A-Za-z0-9_-]{43}$/)
  const owner = ownerKey(node)
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
