// Defect 7a: Sign must not be a way to mint passports. Sign signs a fixed prefix + the data, so a
// session cannot produce the signature of a passport (which covers "PPT1;" + its Data).
import { describe, expect, test } from 'bun:test'
import { encodeData, sign, toBase64Url, verify } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, ownerKey } from '../helpers/kernel.ts'

describe('Sign is domain-separated', () => {
  test('an owner session cannot build a login passport with Sign', async () => {
    await using node = await bootTest()
    const { sid } = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    const owner = ownerKey(node)
    const now = Math.floor(Date.now() / 1000)
    const data = encodeData({ CertFor: 'Self', Signer: owner.id, Audience: node.identity.nodeId, NotBefore: String(now), NotAfter: String(now + 600) })
    // What a passport's signature covers, signed through the syscall.
    const sig = (await callLocal(node, 'Sign', sid, new TextEncoder().encode('PPT1;' + data))) as Uint8Array
    const forged = JSON.stringify({ Version: 1, KeyType: 'ed25519', SignerID: owner.id, SignerPK: toBase64Url(owner.publicKey), Data: data, Signature: toBase64Url(sig) })
    expect(await failure(callLocal(node, 'Login', forged))).toStartWith('InvalidSignature: passport signature is invalid')
  })

  test('Verify checks what Sign signed, and nothing signed without the prefix', async () => {
    await using node = await bootTest()
    const { sid } = (await callLocal(node, 'Login', loginPassport(node))) as { sid: string }
    const owner = ownerKey(node)
    const message = new TextEncoder().encode('hello')
    const sig = (await callLocal(node, 'Sign', sid, message)) as Uint8Array
    // The raw Ed25519 signature of the bare message is not what Sign returns.
    expect(verify(owner.publicKey, message, sig)).toBe(false)
    expect(await callLocal(node, 'Verify', '', owner.publicKey, message, sig)).toEqual({ valid: true, signer: owner.id })
    const bare = sign(owner, message)
    expect(await callLocal(node, 'Verify', '', owner.publicKey, message, bare)).toEqual({ valid: false, signer: owner.id })
  })
})
