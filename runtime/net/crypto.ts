// Noise crypto for Bun: Bun's node:crypto lacks chacha20-poly1305, and @libp2p/noise's default
// switches to it for frames of ~1200 bytes and more — every larger message would fail. ChaCha20-
// Poly1305 comes from the system's libcrypto through FFI when present (measured ~20x faster, see
// bench/net.ts), else from @noble/ciphers (pure JS); SHA-256 from Bun's native hasher; X25519
// from Bun's node:crypto, which has it (~17x faster than pure JS: cheaper handshakes).
import { pureJsCrypto, type ICryptoInterface } from '@libp2p/noise'
import { defaultCrypto } from '@libp2p/noise/crypto'
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

/** The package's node:crypto X25519, if this runtime has it and it agrees with the pure one. */
function nativeX25519(): X25519 | undefined {
  try {
    const ours = defaultCrypto.generateX25519KeyPair()
    const theirs = pureJsCrypto.generateX25519KeyPair()
    const a = defaultCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)
    const b = pureJsCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)
    const seeded = defaultCrypto.generateX25519KeyPairFromSeed(theirs.privateKey)
    if (!Buffer.from(a).equals(Buffer.from(b)) || !Buffer.from(seeded.publicKey).equals(Buffer.from(theirs.publicKey))) return undefined
    return {
      generateX25519KeyPair: defaultCrypto.generateX25519KeyPair,
      generateX25519KeyPairFromSeed: defaultCrypto.generateX25519KeyPairFromSeed,
      generateX25519SharedKey: defaultCrypto.generateX25519SharedKey,
    }
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
