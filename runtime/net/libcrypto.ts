// ChaCha20-Poly1305 (RFC 8439) from the system's OpenSSL 3 libcrypto through bun:ffi: ~20x the
// speed of the pure-JS ciphers on this path, which is what bounds encrypted stream throughput.
import { dlopen, FFIType } from 'bun:ffi'
import type { Uint8ArrayList } from 'uint8arraylist'

/** One AEAD as Noise uses it: 32-byte key, 12-byte nonce, 16-byte tag appended to the ciphertext. */
export interface Aead {
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array | Uint8ArrayList): Uint8Array
  /** Throws when the tag does not verify; nothing unauthenticated is returned. */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array, dst?: Uint8Array): Uint8Array
}

const TAG = 16
// From openssl/evp.h; stable across OpenSSL 1.1 and 3.
const EVP_CTRL_AEAD_GET_TAG = 0x10
const EVP_CTRL_AEAD_SET_TAG = 0x11

/** Where OpenSSL 3 lives on each platform we build for; the first that loads wins. */
const LIBRARY_NAMES: Record<string, string[]> = {
  linux: ['libcrypto.so.3'],
  darwin: ['/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib', '/usr/local/opt/openssl@3/lib/libcrypto.3.dylib', 'libcrypto.3.dylib'],
  win32: ['libcrypto-3-x64.dll', 'libcrypto-3-arm64.dll'],
}

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { args: [], returns: FFIType.ptr },
  EVP_chacha20_poly1305: { args: [], returns: FFIType.ptr },
  EVP_CipherInit_ex: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  EVP_CipherUpdate: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  EVP_CipherFinal_ex: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  EVP_CIPHER_CTX_ctrl: { args: [FFIType.ptr, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
} as const

type Lib = ReturnType<typeof dlopen<typeof SYMBOLS>>

function openLibrary(): Lib | undefined {
  for (const name of LIBRARY_NAMES[process.platform] ?? []) {
    try {
      return dlopen(name, SYMBOLS)
    } catch {
      // Not installed under this name: try the next, then fall back to pure JS.
    }
  }
  return undefined
}

/**
 * Binds libcrypto's ChaCha20-Poly1305, or returns undefined when the library is absent. Two cipher
 * contexts (one per direction) are made once and re-keyed per call: JS is single-threaded and each
 * call runs to completion, so they are never shared by two operations at once.
 */
export function loadLibcryptoAead(): Aead | undefined {
  const lib = openLibrary()
  if (!lib) return undefined
  const s = lib.symbols
  const cipher = s.EVP_chacha20_poly1305()
  const encCtx = s.EVP_CIPHER_CTX_new()
  const decCtx = s.EVP_CIPHER_CTX_new()
  if (!cipher || !encCtx || !decCtx) return undefined
  if (s.EVP_CipherInit_ex(encCtx, cipher, null, null, null, 1) !== 1) return undefined
  if (s.EVP_CipherInit_ex(decCtx, cipher, null, null, null, 0) !== 1) return undefined
  const outLen = new Int32Array(1)
  const scratch = new Uint8Array(TAG)

  const check = (ok: number, what: string) => {
    if (ok !== 1) throw new Error(`libcrypto chacha20-poly1305: ${what} failed`)
  }
  // OpenSSL reads the key and nonce through bare pointers: a short one would be read past its end.
  const checkKey = (key: Uint8Array, nonce: Uint8Array) => {
    if (key.byteLength !== 32 || nonce.byteLength !== 12) throw new Error('chacha20-poly1305 needs a 32-byte key and a 12-byte nonce')
  }
  // Bun refuses to pass an empty typed array as a pointer; an empty input is simply skipped. The
  // stream cipher writes exactly as many bytes as it reads; anything else would be a broken library.
  const update = (ctx: typeof encCtx, out: Uint8Array | null, input: Uint8Array, what: string) => {
    if (input.byteLength === 0) return
    if (input.byteLength > 0x7fffffff) throw new Error('chacha20-poly1305: input too large')
    check(s.EVP_CipherUpdate(ctx, out, outLen, input, input.byteLength), what)
    if (out && outLen[0] !== input.byteLength) throw new Error(`libcrypto chacha20-poly1305: ${what} wrote ${outLen[0]} of ${input.byteLength} bytes`)
  }
  /** Where `open` may write: the caller's dst when it is the ciphertext itself or apart from it. */
  const target = (ciphertext: Uint8Array, length: number, dst?: Uint8Array): Uint8Array => {
    if (!dst || dst.byteLength < length) return new Uint8Array(length)
    const sameStart = dst.buffer === ciphertext.buffer && dst.byteOffset === ciphertext.byteOffset
    const apart = dst.buffer !== ciphertext.buffer || dst.byteOffset + length <= ciphertext.byteOffset || ciphertext.byteOffset + length <= dst.byteOffset
    // OpenSSL decrypts in place, but not into a buffer that overlaps the input at an offset.
    return sameStart || apart ? dst.subarray(0, length) : new Uint8Array(length)
  }

  return {
    seal(key, nonce, ad, plaintext) {
      checkKey(key, nonce)
      const out = new Uint8Array(plaintext.byteLength + TAG)
      check(s.EVP_CipherInit_ex(encCtx, null, null, key, nonce, 1), 'key setup')
      update(encCtx, null, ad, 'associated data')
      // A Uint8ArrayList is encrypted part by part: no copy into one buffer first.
      let offset = 0
      for (const part of plaintext instanceof Uint8Array ? [plaintext] : plaintext) {
        update(encCtx, out.subarray(offset), part, 'encrypt')
        offset += part.byteLength
      }
      check(s.EVP_CipherFinal_ex(encCtx, scratch, outLen), 'finish')
      check(s.EVP_CIPHER_CTX_ctrl(encCtx, EVP_CTRL_AEAD_GET_TAG, TAG, out.subarray(offset)), 'tag')
      return out
    },
    open(key, nonce, ad, ciphertext, dst) {
      if (ciphertext.byteLength < TAG) throw new Error('ciphertext shorter than its tag')
      checkKey(key, nonce)
      const length = ciphertext.byteLength - TAG
      // Noise passes dst = the ciphertext's own bytes, to decrypt in place without allocating.
      const out = target(ciphertext, length, dst)
      check(s.EVP_CipherInit_ex(decCtx, null, null, key, nonce, 0), 'key setup')
      update(decCtx, null, ad, 'associated data')
      // The tag is copied out first, so no output buffer the caller hands in can overwrite it.
      const tag = ciphertext.slice(length)
      update(decCtx, out, ciphertext.subarray(0, length), 'decrypt')
      check(s.EVP_CIPHER_CTX_ctrl(decCtx, EVP_CTRL_AEAD_SET_TAG, TAG, tag), 'tag')
      if (s.EVP_CipherFinal_ex(decCtx, scratch, outLen) !== 1) {
        out.fill(0)
        throw new Error('Invalid chacha20poly1305 decryption')
      }
      return out
    },
  }
}
