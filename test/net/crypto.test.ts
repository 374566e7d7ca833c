// The Noise cipher: libcrypto's ChaCha20-Poly1305 (through FFI) and the @noble/ciphers fallback each
// meet RFC 8439 and agree byte for byte; the node picks the native one wherever libcrypto 3 is
// installed and the fallback elsewhere; a node on either interoperates with the package's pure-JS crypto.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise, pureJsCrypto, type ICryptoInterface } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { loadLibcryptoAead, type Aead } from '../../runtime/net/libcrypto.ts'
import { bunNoiseCrypto, nobleNoiseCrypto, selectNoiseCrypto } from '../../runtime/net/crypto.ts'
import { applyBunCompat } from '../../runtime/net/bun-compat.ts'
import { connectVia, echo, randomBytes, serveEcho } from './echo.ts'

const native = loadLibcryptoAead()
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

/**
 * Where this system has OpenSSL 3's libcrypto, found the way the dynamic loader would (ldconfig's
 * cache, then the usual library folders; Homebrew's on macOS), or undefined with why not.
 */
function installedLibcrypto(): { path?: string; why: string } {
  if (process.platform === 'linux') {
    const cache = Bun.spawnSync(['ldconfig', '-p'], { stdout: 'pipe', stderr: 'ignore' })
    const listed = cache.success ? /libcrypto\.so\.3 \(.*\) => (\S+)/.exec(cache.stdout.toString())?.[1] : undefined
    if (listed) return { path: listed, why: `ldconfig lists ${listed}` }
    const dirs = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib']
    for (const d of [...dirs]) {
      try {
        for (const sub of readdirSync(d)) if (sub.endsWith('-linux-gnu') || sub.endsWith('-linux-musl')) dirs.push(join(d, sub))
      } catch {
        // no such folder
      }
    }
    const found = dirs.map((d) => join(d, 'libcrypto.so.3')).find(existsSync)
    return found ? { path: found, why: `${found} exists` } : { why: `no libcrypto.so.3 in ldconfig's cache or in ${dirs.join(', ')}` }
  }
  if (process.platform === 'darwin') {
    const found = ['/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib', '/usr/local/opt/openssl@3/lib/libcrypto.3.dylib'].find(existsSync)
    return found ? { path: found, why: `${found} exists` } : { why: 'no Homebrew openssl@3' }
  }
  return { why: `no libcrypto 3 search for ${process.platform}` }
}
const installed = installedLibcrypto()
const forcedNoble = process.env.LEITHER_NOISE_CIPHER === 'noble'

/** The fallback as the node's Noise uses it (key and nonce checks, Uint8ArrayList, dst). */
const whole = (data: Uint8Array | Uint8ArrayList): Uint8Array => (data instanceof Uint8Array ? data : data.subarray())
const noble: Aead = {
  seal: (key, nonce, ad, plaintext) => whole(nobleNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)),
  open: (key, nonce, ad, ciphertext, dst) => whole(nobleNoiseCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, key, dst)),
}

describe('which cipher the node picks', () => {
  if (installed.path) {
    test(`libcrypto's, where libcrypto 3 is installed (${installed.why})`, () => {
      expect(native).toBeDefined()
      expect(selectNoiseCrypto().cipher).toBe(forcedNoble ? 'noble' : 'libcrypto')
    })
  } else {
    test(`@noble/ciphers, where no libcrypto 3 is installed (${installed.why})`, () => {
      expect(native).toBeUndefined()
      expect(selectNoiseCrypto().cipher).toBe('noble')
    })
  }

  test('LEITHER_NOISE_CIPHER=noble forces the fallback', () => {
    const child = Bun.spawnSync(
      [process.execPath, '-e', `import { selectNoiseCrypto } from ${JSON.stringify(join(import.meta.dir, '../../runtime/net/crypto.ts'))}; console.log(selectNoiseCrypto().cipher)`],
      { env: { ...process.env, LEITHER_NOISE_CIPHER: 'noble' }, stdout: 'pipe', stderr: 'pipe' },
    )
    expect({ code: child.exitCode, out: child.stdout.toString().trim() }).toEqual({ code: 0, out: 'noble' })
  })
})

const CIPHERS: { name: string; aead?: Aead; skip?: string; forged: string | RegExp; badKey: string | RegExp; badNonce: string | RegExp }[] = [
  { name: '@noble/ciphers (the fallback)', aead: noble, forged: 'invalid tag', badKey: 'length 32', badNonce: 'length 12' },
  {
    name: 'libcrypto (through FFI)',
    aead: native,
    skip: native ? undefined : `libcrypto 3 did not load: ${installed.why}`,
    forged: 'Invalid chacha20poly1305 decryption',
    badKey: '32-byte key',
    badNonce: '12-byte nonce',
  },
]

for (const { name, aead, skip, forged, badKey, badNonce } of CIPHERS) {
  describe(`ChaCha20-Poly1305 of ${name}`, () => {
    if (!aead) {
      // Printed in the test list, so a run on a system without the library says why it did less.
      test.skip(`(skipped: ${skip})`, () => {})
      return
    }

    test('RFC 8439 §2.8.2 test vector', () => {
      const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
      const nonce = hex('070000004041424344454647')
      const ad = hex('50515253c0c1c2c3c4c5c6c7')
      const plain = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
      const sealed = aead.seal(key, nonce, ad, plain)
      expect(Buffer.from(sealed.subarray(0, 16)).toString('hex')).toBe('d31a8d34648e60db7b86afbc53ef7ec2')
      expect(Buffer.from(sealed.subarray(-16)).toString('hex')).toBe('1ae10b594f09e26a7e902ecbd0600691')
      expect(new TextDecoder().decode(aead.open(key, nonce, ad, sealed))).toStartWith('Ladies and Gentlemen')
    })

    test('agrees with @noble/ciphers called directly at every frame size, both ways, and refuses forgeries', () => {
      for (const size of [0, 1, 15, 16, 17, 1199, 1200, 4096, 65519, 70_000]) {
        const key = randomBytes(32)
        const nonce = randomBytes(12)
        const ad = size % 2 ? randomBytes(32) : new Uint8Array(0)
        const plain = randomBytes(size)
        const ours = aead.seal(key, nonce, ad, plain)
        const reference = chacha20poly1305(key, nonce, ad).encrypt(plain)
        expect(Buffer.from(ours).equals(Buffer.from(reference))).toBe(true)
        expect(Buffer.from(aead.open(key, nonce, ad, reference)).equals(Buffer.from(plain))).toBe(true)
        const tampered = Uint8Array.from(ours)
        tampered[size ? size >> 1 : 0] ^= 0x40
        expect(() => aead.open(key, nonce, ad, tampered)).toThrow(forged)
      }
    })

    test('takes a Uint8ArrayList and Buffers, and decrypts into the dst Noise hands it', () => {
      const key = randomBytes(32)
      const nonce = randomBytes(12)
      const plain = randomBytes(100_000)
      const list = new Uint8ArrayList(plain.subarray(0, 333), plain.subarray(333, 70_000), plain.subarray(70_000))
      const sealed = aead.seal(key, nonce, new Uint8Array(0), list)
      expect(Buffer.from(sealed).equals(Buffer.from(chacha20poly1305(key, nonce).encrypt(plain)))).toBe(true)
      // Noise hands the ciphertext's own bytes as dst: the plaintext must land there, tag untouched.
      const frame = Buffer.from(sealed)
      const out = aead.open(key, nonce, new Uint8Array(0), frame, frame.subarray(0, plain.length))
      expect(out.buffer).toBe(frame.buffer)
      expect(Buffer.from(out).equals(Buffer.from(plain))).toBe(true)
      // A dst that overlaps the ciphertext at an offset: the plaintext still comes out right.
      const again = Buffer.from(sealed)
      const shifted = aead.open(key, nonce, new Uint8Array(0), again, again.subarray(5, 5 + plain.length))
      expect(Buffer.from(shifted).equals(Buffer.from(plain))).toBe(true)
    })

    test('refuses keys and nonces of the wrong size instead of reading past them', () => {
      expect(() => aead.seal(randomBytes(31), randomBytes(12), new Uint8Array(0), randomBytes(10))).toThrow(badKey)
      expect(() => aead.open(randomBytes(32), randomBytes(8), new Uint8Array(0), randomBytes(40))).toThrow(badNonce)
    })
  })
}

describe('Noise between the node crypto, the fallback and the pure-JS crypto', () => {
  let nodes: Libp2p[] = []
  const start = (crypto: ICryptoInterface) =>
    createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise({ crypto })],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
    })
  beforeAll(async () => {
    applyBunCompat()
    nodes = [await start(bunNoiseCrypto), await start(nobleNoiseCrypto), await start(pureJsCrypto)]
    await Promise.all(nodes.map(serveEcho))
  }, 30_000)
  afterAll(() => Promise.all(nodes.map((n) => n.stop())))

  for (const [name, index] of [
    [`the node's (${selectNoiseCrypto().cipher})`, 0],
    ['the @noble/ciphers fallback', 1],
  ] as const) {
    test(`${name}: handshake and a 1 MiB round trip with the pure-JS crypto, each side dialing`, async () => {
      const ours = nodes[index]!
      const pure = nodes[2]!
      for (const [from, to] of [
        [ours, pure],
        [pure, ours],
      ]) {
        const conn = await connectVia(from, to.getMultiaddrs()[0]!.toString())
        expect(conn.encryption).toBe('/noise')
        const message = randomBytes(1024 * 1024 + 3)
        const back = await echo(conn, message)
        expect(Buffer.from(back).equals(Buffer.from(message))).toBe(true)
      }
    }, 30_000)
  }
})
