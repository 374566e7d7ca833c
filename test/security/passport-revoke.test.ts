// Defect 7d: the owner revokes a user: UserRevoke ends the user's sessions and refuses every
// passport of theirs issued before a time (default now), persisted across restarts.
import { describe, expect, test } from 'bun:test'
import { generateKeyPair, signPassport, type KeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { cli, startNode, tempDir } from '../helpers/node.ts'

const now = () => Math.floor(Date.now() / 1000)
const passportAt = (node: TestKernel, key: KeyPair, notBefore: number) =>
  signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, notBefore, ttl: 3600 })
const login = async (node: TestKernel, ppt: string) => ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid

describe('UserRevoke', () => {
  test("ends the user's sessions and refuses their older passports, across a restart; newer ones log in", async () => {
    using dir = tempDir()
    const alice = generateKeyPair()
    let old: string
    {
      await using node = await bootTest({}, dir)
      const owner = await login(node, loginPassport(node))
      old = passportAt(node, alice, now() - 60)
      const [s1, s2] = [await login(node, old), await login(node, loginPassport(node, alice))]
      const ended: { userId: string; sid?: string }[] = []
      node.sessions.onEnded((e) => ended.push({ ...e }))
      const r = (await callLocal(node, 'UserRevoke', owner, alice.id)) as { sessions: number; before: number }
      expect(r.sessions).toBe(2)
      expect(ended).toEqual([{ userId: alice.id }])
      for (const s of [s1, s2]) expect(await failure(callLocal(node, 'WhoAmI', s))).toStartWith('PermissionDenied')
      const text = await failure(callLocal(node, 'Login', old))
      expect(text).toStartWith('InvalidSignature: the passports of user')
      expect(text).toContain('sign a new one')
    }
    await using again = await bootTest({}, dir)
    expect(await failure(callLocal(again, 'Login', old))).toContain('were revoked')
    // A passport issued after the revocation logs in.
    expect(await callLocal(again, 'Login', passportAt(again, alice, now() + 2))).toMatchObject({ uid: alice.id })
  })

  test('with before in the past, passports issued since then still log in', async () => {
    await using node = await bootTest()
    const owner = await login(node, loginPassport(node))
    const bob = generateKeyPair()
    const t = now() - 600
    expect(await callLocal(node, 'UserRevoke', owner, bob.id, t)).toEqual({ sessions: 0, before: t })
    expect(await failure(callLocal(node, 'Login', passportAt(node, bob, t - 1)))).toContain('were revoked')
    expect(await callLocal(node, 'Login', passportAt(node, bob, t + 1))).toMatchObject({ uid: bob.id })
    expect(await failure(callLocal(node, 'UserRevoke', owner, bob.id, now() + 3600))).toStartWith('InvalidParams: UserRevoke: before may not be in the future')
    expect(await failure(callLocal(node, 'UserRevoke', owner, 'not-a-user', t))).toStartWith('InvalidParams')
  })

  test('only the owner may revoke', async () => {
    await using node = await bootTest()
    const mallory = generateKeyPair()
    const sid = await login(node, loginPassport(node, mallory))
    expect(await failure(callLocal(node, 'UserRevoke', sid, node.config.owner))).toStartWith('PermissionDenied: UserRevoke needs node.admin')
    expect(await failure(callLocal(node, 'UserRevoke', '', node.config.owner))).toStartWith('PermissionDenied')
  })
})

describe('leither user revoke', () => {
  test('revokes through a running node; --before takes a time; leither user --help lists it', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1', '--offline'])
    const carol = generateKeyPair().id
    const r = await cli(['user', 'revoke', carol, '--data', dir, '--node', node.url, '--before', '2024-01-02T03:04:05Z'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`revoked ${carol}: 0 sessions ended; passports issued before 2024-01-02T03:04:05.000Z refused`)
    const bad = await cli(['user', 'revoke', carol, '--data', dir, '--node', node.url, '--before', 'yesterday-ish'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--before')
    const help = await cli(['user', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('leither user revoke')
    const subHelp = await cli(['user', 'revoke', '--help'])
    expect(subHelp.stdout).toContain('--before')
  })
})
