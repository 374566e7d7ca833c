// Noise crypto for Bun: Bun's node:crypto lacks chacha20-poly1305, and @libp2p/noise's default
// switches to it for frames of ~1200 bytes and more — every larger message would fail. ChaCha20-
// Poly1305 comes from @noble/ciphers instead; SHA-256 from Bun's native hasher.
import { pureJsCrypto, type ICryptoInterface } from '@libp2p/noise'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import type { Uint8ArrayList } from 'uint8arraylist'

const flat = (data: Uint8Array | Uint8ArrayList): Uint8Array => (data instanceof Uint8Array ? data : data.subarray())

export const bunNoiseCrypto: ICryptoInterface = {
  ...pureJsCrypto,
  hashSHA256(data) {
    const hasher = new Bun.CryptoHasher('sha256')
    if (data instanceof Uint8Array) hasher.update(data)
    else for (const part of data) hasher.update(part)
    return new Uint8Array(hasher.digest() as Uint8Array)
  },
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    return chacha20poly1305(k, nonce, ad).encrypt(flat(plaintext))
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k) {
    return chacha20poly1305(k, nonce, ad).decrypt(flat(ciphertext))
  },
}
