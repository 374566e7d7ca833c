// Defect 7b: passports have a maximum validity (config passportMaxSec, default 7 days): a longer
// login passport is refused, and SignPPT never issues one longer.
import { describe, expect, test } from 'bun:test'
import { encodeData, sign, toBase64Url, type KeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, ownerKey } from '../helpers/kernel.ts'

/** A login passport with any validity window, signed as a passport is (no limit in the way). */
function passportWindow(key: KeyPair, audience: string, notBefore: number, notAfter: number): string {
  const data = encodeData({ CertFor: 'Self', Signer: key.id, Audience: audience, NotBefore: String(notBefore), NotAfter: String(notAfter) })
  const signature = sign(key, new TextEncoder().encode('PPT1;' + data))
  return JSON.stringify({ Version: 1, KeyType: 'ed25519', SignerID: key.id, SignerPK: toBase64Url(key.publicKey), Data: data, Signature: toBase64Url(signature) })
}

const now = () => Math.floor(Date.now() / 1000)

describe('passport validity is limited', () => {
  test('a login passport valid until 2100 is refused; one of 7 days is accepted', async () => {
    await using node = await bootTest()
    const owner = ownerKey(node)
    const until2100 = passportWindow(owner, node.identity.nodeId, now(), Date.UTC(2100, 0, 1) / 1000)
    const text = await failure(callLocal(node, 'Login', until2100))
    expect(text).toStartWith('InvalidSignature: passport is valid for')
    expect(text).toContain('longer than the 604800 s this node accepts (passportMaxSec)')
    const week = passportWindow(owner, node.identity.nodeId, now(), now() + 7 * 86400)
    expect(await callLocal(node, 'Login', week)).toMatchObject({ owner: true })
  })

  test('the limit is configurable, and SignPPT issues nothing longer', async () => {
    await using node = await bootTest({ passportMaxSec: 3600 })
    const owner = ownerKey(node)
    const twoHours = passportWindow(owner, node.identity.nodeId, now(), now() + 7200)
    expect(await failure(callLocal(node, 'Login', twoHours))).toContain('longer than the 3600 s this node accepts')
    const { sid } = (await callLocal(node, 'Login', loginPassport(node, owner, 1800))) as { sid: string }
    expect(await failure(callLocal(node, 'SignPPT', sid, { CertFor: 'Self' }, 61))).toStartWith('InvalidParams: SignPPT: period must be 1..60 minutes')
    const hour = (await callLocal(node, 'SignPPT', sid, { CertFor: 'Self' }, 60)) as string
    expect(await callLocal(node, 'Login', hour)).toMatchObject({ owner: true })
  })

  test('with the default limit SignPPT issues at most 7 days', async () => {
    await using node = await bootTest()
    const { sid } = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    expect(await failure(callLocal(node, 'SignPPT', sid, { CertFor: 'Self' }, 10081))).toStartWith('InvalidParams: SignPPT: period must be 1..10080 minutes')
  })
})
