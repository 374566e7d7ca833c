// Ed25519 on native crypto: RFC 8032's vectors, the same keys and signatures as @noble/curves, and
// the same verdicts, including signatures only the ZIP-215 rules accept.
import { describe, expect, test } from 'bun:test'
import { createPublicKey, verify as nativeVerify } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { publicKeyOf, signEd25519, verifyEd25519 } from '../../runtime/identity/ed25519.ts'
import { generateKeyPair, sign, verify } from '../../runtime/identity/keys.ts'

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** RFC 8032 section 7.1, TEST 1 and TEST 2. */
const VECTORS = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
]

describe('Ed25519 on native crypto', () => {
  test("RFC 8032's test vectors: public key, signature, verdict", () => {
    for (const v of VECTORS) {
      expect(toHex(publicKeyOf(hex(v.secret)))).toBe(v.public)
      expect(toHex(signEd25519(hex(v.secret), hex(v.message)))).toBe(v.signature)
      expect(verifyEd25519(hex(v.signature), hex(v.message), hex(v.public))).toBe(true)
    }
  })

  test('the same keys, signatures and verdicts as @noble/curves on random keys and messages', () => {
    for (let i = 0; i < 20; i++) {
      const key = generateKeyPair()
      expect(toHex(key.publicKey)).toBe(toHex(ed25519.getPublicKey(key.secretKey)))
      const message = crypto.getRandomValues(new Uint8Array(i * 37))
      const signature = sign(key, message)
      expect(toHex(signature)).toBe(toHex(ed25519.sign(message, key.secretKey)))
      expect(verify(key.publicKey, message, signature)).toBe(true)
      const forged = signature.slice()
      forged[i % 64] ^= 1
      expect(verify(key.publicKey, message, forged)).toBe(ed25519.verify(forged, message, key.publicKey))
      expect(verify(generateKeyPair().publicKey, message, signature)).toBe(false)
    }
  })

  test('a signature only the ZIP-215 rules accept (a non-canonical R) is still accepted, as before', () => {
    // A = the identity point, S = 0, R = the identity encoded with y = p + 1 (not canonical):
    // valid under ZIP-215's rules, which @noble/curves applies; native verification refuses it.
    const publicKey = new Uint8Array(32)
    publicKey[0] = 1
    const signature = new Uint8Array(64)
    signature.fill(0xff, 0, 32)
    signature[0] = 0xee
    signature[31] = 0x7f
    const message = new TextEncoder().encode('zip215')
    const spki = createPublicKey({ key: Buffer.concat([hex('302a300506032b6570032100'), publicKey]), format: 'der', type: 'spki' })
    expect(nativeVerify(null, message, spki, signature)).toBe(false)
    expect(ed25519.verify(signature, message, publicKey)).toBe(true)
    expect(verifyEd25519(signature, message, publicKey)).toBe(true)
  })

  test('a public key that is not a point is refused, not thrown', () => {
    const key = generateKeyPair()
    const message = new Uint8Array([1, 2, 3])
    const bad = new Uint8Array(32).fill(0xff)
    expect(verify(bad, message, sign(key, message))).toBe(false)
  })
})
