// The node's Noise key agreement: X25519 from node:crypto meets RFC 7748 and agrees with the
// package's pure-JS X25519, whichever side made which key.
import { describe, expect, test } from 'bun:test'
import { pureJsCrypto } from '@libp2p/noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { bunNoiseCrypto } from '../../runtime/net/crypto.ts'

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array | Uint8ArrayList) => Buffer.from(b instanceof Uint8Array ? b : b.subarray()).toString('hex')

describe('X25519 of the node', () => {
  test("RFC 7748 section 6.1: both key pairs and the shared secret", () => {
    const alice = bunNoiseCrypto.generateX25519KeyPairFromSeed(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
    const bob = bunNoiseCrypto.generateX25519KeyPairFromSeed(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
    expect(toHex(alice.publicKey)).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
    expect(toHex(bob.publicKey)).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
    expect(toHex(bunNoiseCrypto.generateX25519SharedKey(alice.privateKey, bob.publicKey))).toBe(shared)
    expect(toHex(bunNoiseCrypto.generateX25519SharedKey(bob.privateKey, alice.publicKey))).toBe(shared)
  })

  test('agrees with the pure-JS X25519 on fresh keys, as Uint8Array or Uint8ArrayList', () => {
    for (let i = 0; i < 5; i++) {
      const ours = bunNoiseCrypto.generateX25519KeyPair()
      const theirs = pureJsCrypto.generateX25519KeyPair()
      expect(ours.publicKey.length).toBe(32)
      expect(ours.privateKey.length).toBe(32)
      const a = bunNoiseCrypto.generateX25519SharedKey(ours.privateKey, new Uint8ArrayList(theirs.publicKey))
      const b = pureJsCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)
      expect(toHex(a)).toBe(toHex(b))
      expect(toHex(bunNoiseCrypto.generateX25519KeyPairFromSeed(theirs.privateKey).publicKey)).toBe(toHex(theirs.publicKey))
    }
  })
})
