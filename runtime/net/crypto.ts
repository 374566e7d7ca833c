// Noise crypto for Bun: Bun's node:crypto lacks chacha20-poly1305, and @libp2p/noise's default
// switches to it for frames of ~1200 bytes and more — every larger message would fail. ChaCha20-
// Poly1305 comes from the system's libcrypto through FFI when present (measured ~20x faster, see
// bench/net.ts), else from @noble/ciphers (pure JS); SHA-256 from Bun's native hasher; X25519
// from Bun's node:crypto, which has it (~17x faster than pure JS: cheaper handshakes).
import { pureJsCrypto, type ICryptoInterface } from '@libp2p/noise'
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import type { Uint8ArrayList } from 'uint8arraylist'
import { loadLibcryptoAead, type Aead } from './libcrypto.ts'

export type NoiseCipher = 'libcrypto' | 'noble'

const flat = (data: Uint8Array | Uint8ArrayList): Uint8Array => (data instanceof Uint8Array ? data : data.subarray())

/**
 * A plain Uint8Array view of the same bytes. Received data arrives as Node Buffers, and noble's
 * Poly1305 copies its input with Uint8Array.from, which JSC runs byte by byte through the iterator
 * for a Buffer (measured: 60% of the receiver's time) but as one memcpy for a plain Uint8Array.
 */
const plain = (b: Uint8Array): Uint8Array => (Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength))

const nobleAead: Aead = {
  seal: (key, nonce, ad, plaintext) => chacha20poly1305(plain(key), plain(nonce), plain(ad)).encrypt(plain(flat(plaintext))),
  open: (key, nonce, ad, ciphertext, dst) => chacha20poly1305(plain(key), plain(nonce), plain(ad)).decrypt(plain(ciphertext), dst && plain(dst)),
}

function withAead(aead: Aead): ICryptoInterface {
  return {
    ...pureJsCrypto,
    hashSHA256(data) {
      const hasher = new Bun.CryptoHasher('sha256')
      if (data instanceof Uint8Array) hasher.update(data)
      else for (const part of data) hasher.update(part)
      return new Uint8Array(hasher.digest() as Uint8Array)
    },
    chaCha20Poly1305Encrypt: (plaintext, nonce, ad, k) => aead.seal(k, nonce, ad, plaintext),
    chaCha20Poly1305Decrypt: (ciphertext, nonce, ad, k, dst) => aead.open(k, nonce, ad, flat(ciphertext), dst),
  }
}

/** Noise crypto on @noble/ciphers only: the fallback, and the reference the fast one is tested against. */
export const nobleNoiseCrypto: ICryptoInterface = withAead(nobleAead)

type X25519 = Pick<ICryptoInterface, 'generateX25519KeyPair' | 'generateX25519KeyPairFromSeed' | 'generateX25519SharedKey'>

/** DER headers of an X25519 private key (PKCS#8) and public key (SPKI); the raw 32 bytes follow. */
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex')
const der = (prefix: Buffer, raw: Uint8Array | Uint8ArrayList) => Buffer.concat([prefix, flat(raw)])

/** X25519 from the runtime's node:crypto. */
const nodeX25519: X25519 = {
  generateX25519KeyPair() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } })
    return { publicKey: new Uint8Array(publicKey.subarray(X25519_SPKI.length)), privateKey: new Uint8Array(privateKey.subarray(X25519_PKCS8.length)) }
  },
  generateX25519KeyPairFromSeed(seed) {
    const key = createPrivateKey({ key: der(X25519_PKCS8, seed), format: 'der', type: 'pkcs8' })
    return { publicKey: new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }).subarray(X25519_SPKI.length)), privateKey: seed }
  },
  generateX25519SharedKey(privateKey, publicKey) {
    return new Uint8Array(
      diffieHellman({
        privateKey: createPrivateKey({ key: der(X25519_PKCS8, privateKey), format: 'der', type: 'pkcs8' }),
        publicKey: createPublicKey({ key: der(X25519_SPKI, publicKey), format: 'der', type: 'spki' }),
      }),
    )
  },
}

/** RFC 7748 section 6.1: Alice's key pair, Bob's public key and the secret they share. */
const X25519_VECTOR = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
}

/**
 * node:crypto's X25519, if this runtime has it and it meets the RFC's test vector. (Checked against
 * the vector rather than against the pure-JS one: curve arithmetic in JS at start made the JIT
 * compile it, several MB an idle node kept.)
 */
function nativeX25519(): X25519 | undefined {
  try {
    const v = Object.fromEntries(Object.entries(X25519_VECTOR).map(([k, hex]) => [k, Buffer.from(hex, 'hex')]))
    const alice = nodeX25519.generateX25519KeyPairFromSeed(new Uint8Array(v.alicePrivate))
    const shared = nodeX25519.generateX25519SharedKey(alice.privateKey, new Uint8Array(v.bobPublic))
    if (!v.alicePublic.equals(Buffer.from(alice.publicKey)) || !v.shared.equals(Buffer.from(shared))) return undefined
    if (nodeX25519.generateX25519KeyPair().publicKey.length !== 32) return undefined
    return nodeX25519
  } catch {
    return undefined
  }
}

/**
 * A native cipher is only used when it agrees with the pure one on a sample (ciphertext, tag,
 * round trip, and refusing a forged tag): a wrong ABI or a broken library falls back instead of
 * corrupting or dropping connections.
 */
function agreesWithNoble(aead: Aead): boolean {
  try {
    const key = crypto.getRandomValues(new Uint8Array(32))
    const nonce = crypto.getRandomValues(new Uint8Array(12))
    const ad = crypto.getRandomValues(new Uint8Array(32))
    const plain = crypto.getRandomValues(new Uint8Array(1500))
    const sealed = aead.seal(key, nonce, ad, plain)
    if (!Buffer.from(sealed).equals(Buffer.from(nobleAead.seal(key, nonce, ad, plain)))) return false
    if (!Buffer.from(aead.open(key, nonce, ad, sealed)).equals(Buffer.from(plain))) return false
    sealed[sealed.length - 1] ^= 1
    try {
      aead.open(key, nonce, ad, sealed)
      return false
    } catch {
      return true
    }
  } catch {
    return false
  }
}

let chosen: { cipher: NoiseCipher; crypto: ICryptoInterface } | undefined
let x25519: X25519 | undefined

/**
 * Picks the crypto once, on first use (not at import: loading a native library is a side effect).
 * Only the first encrypted frame needs the cipher: an idle node with no peers never loads libcrypto
 * (about 3 MB of resident memory).
 */
export function selectNoiseCrypto(): { cipher: NoiseCipher; crypto: ICryptoInterface } {
  if (!chosen) {
    // LEITHER_NOISE_CIPHER=noble forces the pure-JS cipher: an escape hatch, should a system
    // libcrypto misbehave in a way the self-check below does not catch.
    const native = process.env.LEITHER_NOISE_CIPHER === 'noble' ? undefined : loadLibcryptoAead()
    const base = native && agreesWithNoble(native) ? { cipher: 'libcrypto' as const, crypto: withAead(native) } : { cipher: 'noble' as const, crypto: nobleNoiseCrypto }
    chosen = { cipher: base.cipher, crypto: { ...base.crypto, ...keyAgreement() } }
  }
  return chosen
}

/** X25519 alone: Noise makes its static key when the node starts, long before any frame is sealed. */
function keyAgreement(): X25519 {
  const { generateX25519KeyPair, generateX25519KeyPairFromSeed, generateX25519SharedKey } = pureJsCrypto
  x25519 ??= nativeX25519() ?? { generateX25519KeyPair, generateX25519KeyPairFromSeed, generateX25519SharedKey }
  return x25519
}

/** The crypto the node's Noise uses: the fastest correct one available (see selectNoiseCrypto). */
export const bunNoiseCrypto: ICryptoInterface = {
  hashSHA256: (data) => selectNoiseCrypto().crypto.hashSHA256(data),
  getHKDF: (ck, ikm) => selectNoiseCrypto().crypto.getHKDF(ck, ikm),
  generateX25519KeyPair: () => keyAgreement().generateX25519KeyPair(),
  generateX25519KeyPairFromSeed: (seed) => keyAgreement().generateX25519KeyPairFromSeed(seed),
  generateX25519SharedKey: (priv, pub) => keyAgreement().generateX25519SharedKey(priv, pub),
  chaCha20Poly1305Encrypt: (p, n, ad, k) => selectNoiseCrypto().crypto.chaCha20Poly1305Encrypt(p, n, ad, k),
  chaCha20Poly1305Decrypt: (c, n, ad, k, dst) => selectNoiseCrypto().crypto.chaCha20Poly1305Decrypt(c, n, ad, k, dst),
}
