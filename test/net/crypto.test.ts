// The Noise cipher: libcrypto's ChaCha20-Poly1305 (through FFI) must agree with the pure-JS one
// byte for byte, and a node using it must interoperate with a node on the package's pure-JS crypto.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise, pureJsCrypto, type ICryptoInterface } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { loadLibcryptoAead } from '../../runtime/net/libcrypto.ts'
import { bunNoiseCrypto, selectNoiseCrypto } from '../../runtime/net/crypto.ts'
import { applyBunCompat } from '../../runtime/net/bun-compat.ts'
import { connectVia, echo, randomBytes, serveEcho } from './echo.ts'

const aead = loadLibcryptoAead()
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

describe('libcrypto ChaCha20-Poly1305', () => {
  test('is the one chosen wherever OpenSSL 3 is installed', () => {
    if (process.platform === 'linux' && ['/usr/lib/x86_64-linux-gnu/libcrypto.so.3', '/usr/lib/aarch64-linux-gnu/libcrypto.so.3'].some(existsSync)) {
      expect(aead).toBeDefined()
      expect(selectNoiseCrypto().cipher).toBe('libcrypto')
    } else expect(['libcrypto', 'noble']).toContain(selectNoiseCrypto().cipher)
  })

  test.skipIf(!aead)('RFC 8439 §2.8.2 test vector', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
    const nonce = hex('070000004041424344454647')
    const ad = hex('50515253c0c1c2c3c4c5c6c7')
    const plain = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
    const sealed = aead!.seal(key, nonce, ad, plain)
    expect(Buffer.from(sealed.subarray(0, 16)).toString('hex')).toBe('d31a8d34648e60db7b86afbc53ef7ec2')
    expect(Buffer.from(sealed.subarray(-16)).toString('hex')).toBe('1ae10b594f09e26a7e902ecbd0600691')
    expect(new TextDecoder().decode(aead!.open(key, nonce, ad, sealed))).toStartWith('Ladies and Gentlemen')
  })

  test.skipIf(!aead)('agrees with @noble/ciphers at every frame size, both ways, and refuses forgeries', () => {
    for (const size of [0, 1, 15, 16, 17, 1199, 1200, 4096, 65519, 70_000]) {
      const key = randomBytes(32)
      const nonce = randomBytes(12)
      const ad = size % 2 ? randomBytes(32) : new Uint8Array(0)
      const plain = randomBytes(size)
      const ours = aead!.seal(key, nonce, ad, plain)
      const noble = chacha20poly1305(key, nonce, ad).encrypt(plain)
      expect(Buffer.from(ours).equals(Buffer.from(noble))).toBe(true)
      expect(Buffer.from(aead!.open(key, nonce, ad, noble)).equals(Buffer.from(plain))).toBe(true)
      const forged = Uint8Array.from(ours)
      forged[size ? size >> 1 : 0] ^= 0x40
      expect(() => aead!.open(key, nonce, ad, forged)).toThrow('Invalid chacha20poly1305 decryption')
    }
  })

  test.skipIf(!aead)('takes a Uint8ArrayList, Buffers, and decrypts in place as Noise asks', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const plain = randomBytes(100_000)
    const list = new Uint8ArrayList(plain.subarray(0, 333), plain.subarray(333, 70_000), plain.subarray(70_000))
    const sealed = aead!.seal(key, nonce, new Uint8Array(0), list)
    expect(Buffer.from(sealed).equals(Buffer.from(chacha20poly1305(key, nonce).encrypt(plain)))).toBe(true)
    // Noise hands the ciphertext's own bytes as dst: the plaintext must land there, tag untouched.
    const frame = Buffer.from(sealed)
    const out = aead!.open(key, nonce, new Uint8Array(0), frame, frame.subarray(0, plain.length))
    expect(out.buffer).toBe(frame.buffer)
    expect(Buffer.from(out).equals(Buffer.from(plain))).toBe(true)
    // A dst that overlaps the ciphertext at an offset cannot be decrypted into: a fresh buffer is.
    const again = Buffer.from(sealed)
    const shifted = aead!.open(key, nonce, new Uint8Array(0), again, again.subarray(5, 5 + plain.length))
    expect(Buffer.from(shifted).equals(Buffer.from(plain))).toBe(true)
    expect(shifted.buffer).not.toBe(again.buffer)
  })

  test.skipIf(!aead)('refuses keys and nonces of the wrong size instead of reading past them', () => {
    expect(() => aead!.seal(randomBytes(31), randomBytes(12), new Uint8Array(0), randomBytes(10))).toThrow('32-byte key')
    expect(() => aead!.open(randomBytes(32), randomBytes(8), new Uint8Array(0), randomBytes(40))).toThrow('12-byte nonce')
  })
})

describe('Noise between the node crypto and the pure-JS crypto', () => {
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
    nodes = [await start(bunNoiseCrypto), await start(pureJsCrypto)]
    await Promise.all(nodes.map(serveEcho))
  }, 30_000)
  afterAll(() => Promise.all(nodes.map((n) => n.stop())))

  test('handshake and a 1 MiB round trip, each side dialing', async () => {
    const [ours, pure] = nodes
    for (const [from, to] of [
      [ours, pure],
      [pure, ours],
    ]) {
      const conn = await connectVia(from, to.getMultiaddrs()[0].toString())
      expect(conn.encryption).toBe('/noise')
      const message = randomBytes(1024 * 1024 + 3)
      const back = await echo(conn, message)
      expect(Buffer.from(back).equals(Buffer.from(message))).toBe(true)
    }
  }, 30_000)
})
