// Defect 7c: a login passport must not log in again after Logout, even after a restart. Logout
// ends the passport its session was opened with (kept by hash until the passport expires).
import { describe, expect, test } from 'bun:test'
import { generateKeyPair, signPassport } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'

describe('a passport does not outlive Logout', () => {
  test('after Logout the same passport is refused, across a restart; a new one logs in', async () => {
    using dir = tempDir()
    const alice = generateKeyPair()
    let ppt: string
    {
      await using node = await bootTest({}, dir)
      ppt = loginPassport(node, alice)
      const { sid } = (await callLocal(node, 'Login', ppt)) as { sid: string }
      expect(await callLocal(node, 'Logout', sid)).toBe(true)
      expect(await failure(callLocal(node, 'Login', ppt))).toStartWith('InvalidSignature: this passport was ended by Logout; sign a new one')
    }
    await using again = await bootTest({}, dir)
    expect(await failure(callLocal(again, 'Login', ppt))).toContain('ended by Logout')
    const fresh = signPassport(alice, { audience: again.identity.nodeId, data: { CertFor: 'Self' }, ttl: 600 })
    expect(await callLocal(again, 'Login', fresh)).toMatchObject({ uid: alice.id })
  })

  test('one passport may open several sessions; Logout of one ends the passport, not the others', async () => {
    await using node = await bootTest()
    const ppt = loginPassport(node)
    const a = (await callLocal(node, 'Login', ppt)) as { sid: string }
    const b = (await callLocal(node, 'Login', ppt)) as { sid: string }
    await callLocal(node, 'Logout', a.sid)
    expect(await callLocal(node, 'WhoAmI', b.sid)).toMatchObject({ kind: 'owner' })
    expect(await failure(callLocal(node, 'Login', ppt))).toContain('ended by Logout')
  })
})
