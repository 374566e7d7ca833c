// Sessions: login with passports, persistence across restarts, idle expiry, logout and revocation.
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPair, signPassport } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'

describe('sessions', () => {
  test('the owner logs in; the session survives a restart of the node', async () => {
    using dir = tempDir()
    let sid: string
    {
      await using node = await bootTest({}, dir)
      const r = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string; uid: string; owner: boolean }
      expect(r.owner).toBe(true)
      expect(r.uid).toBe(node.config.owner)
      sid = r.sid
    }
    await using again = await bootTest({}, dir)
    const who = (await callLocal(again, 'WhoAmI', sid)) as { userid: string; kind: string; capabilities: string[] }
    expect(who.kind).toBe('owner')
    expect(who.capabilities).toContain('node.admin')
    // Only a hash of the sid is on disk.
    const db = readFileSync(join(dir, 'leither.db'))
    expect(db.includes(Buffer.from(sid))).toBe(false)
  })

  test('any user key logs in as a user, without the owner capabilities', async () => {
    await using node = await bootTest()
    const alice = generateKeyPair()
    const { sid, owner } = (await callLocal(node, 'Login', loginPassport(node, alice))) as { sid: string; owner: boolean }
    expect(owner).toBe(false)
    const who = (await callLocal(node, 'WhoAmI', sid)) as { userid: string; kind: string; capabilities: string[] }
    expect(who).toMatchObject({ userid: alice.id, kind: 'user' })
    expect(who.capabilities).not.toContain('node.admin')
    expect(await failure(callLocal(node, 'MonitorStats', sid))).toContain('PermissionDenied: MonitorStats needs node.admin')
    // Alice's key is not held by this node, so it cannot sign for her.
    expect(await failure(callLocal(node, 'Sign', sid, 'x'))).toContain('NotFound: this node does not hold the key')
  })

  test('passports for another node, without CertFor=Self, or expired are refused', async () => {
    await using node = await bootTest()
    const key = generateKeyPair()
    const elsewhere = signPassport(key, { audience: generateKeyPair().id, data: { CertFor: 'Self' } })
    expect(await failure(callLocal(node, 'Login', elsewhere))).toContain('InvalidSignature: passport is for node')
    const notSelf = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'App' } })
    expect(await failure(callLocal(node, 'Login', notSelf))).toContain('CertFor=Self')
    const old = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, notBefore: 1_000_000, ttl: 60 })
    expect(await failure(callLocal(node, 'Login', old))).toContain('expired')
  })

  test('logout ends the session; a later call says to log in again', async () => {
    await using node = await bootTest()
    const { sid } = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    expect(await callLocal(node, 'Logout', sid)).toBe(true)
    expect(await failure(callLocal(node, 'WhoAmI', sid))).toContain('PermissionDenied: unknown or ended session')
  })

  test('an idle session expires', async () => {
    using dir = tempDir()
    await using node = await bootTest({ sessionIdleSec: 60 }, dir)
    const { sid } = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    expect(((await callLocal(node, 'WhoAmI', sid)) as { kind: string }).kind).toBe('owner')
    // Age the session as if it had been idle for two minutes.
    node.store.db.query('UPDATE sessions SET last_seen = last_seen - 120').run()
    expect(await failure(callLocal(node, 'WhoAmI', sid))).toContain('session expired after 60 s idle')
  })

  test('revoking a user ends all of their sessions', async () => {
    await using node = await bootTest()
    const a = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    const b = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    expect(node.sessions.revokeUser(node.config.owner)).toBe(2)
    for (const s of [a.sid, b.sid]) expect(await failure(callLocal(node, 'WhoAmI', s))).toContain('PermissionDenied')
  })

  test('listeners learn when sessions end: logout with the sid, revocation without', async () => {
    await using node = await bootTest()
    const alice = generateKeyPair()
    const seen: { userId: string; sid?: string }[] = []
    node.sessions.onEnded((e) => seen.push({ ...e }))
    node.sessions.onEnded(() => {
      throw new Error('a failing listener does not stop the others')
    })
    node.sessions.onEnded((e) => seen.push({ userId: `second:${e.userId}` }))
    const a = (await callLocal(node, 'Login', loginPassport(node, alice))) as { sid: string }
    expect(await callLocal(node, 'Logout', a.sid)).toBe(true)
    expect(seen).toEqual([{ userId: alice.id, sid: a.sid }, { userId: `second:${alice.id}` }])
    // A second logout of the same sid ends nothing, so nobody is told.
    expect(node.sessions.logout(a.sid)).toBe(false)
    expect(seen).toHaveLength(2)
    seen.length = 0
    await callLocal(node, 'Login', loginPassport(node, alice))
    expect(node.sessions.revokeUser(alice.id)).toBe(1)
    expect(seen).toEqual([{ userId: alice.id }, { userId: `second:${alice.id}` }])
  })

  test('a sid of the wrong type is InvalidParams, an unknown one PermissionDenied', async () => {
    await using node = await bootTest()
    expect(await failure(callLocal(node, 'WhoAmI', 42))).toContain('InvalidParams: WhoAmI: parameter sid must be a string')
    expect(await failure(callLocal(node, 'WhoAmI', 'no-such-sid'))).toContain('PermissionDenied')
  })
})
