// Key ids, peer ids, key files and passports (sign, verify, and every way verification must fail).
import { describe, expect, test } from 'bun:test'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ripemd160 } from '@noble/hashes/legacy.js'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as identity from '../../runtime/identity/index.ts'
import {
  decodeData,
  encodeData,
  generateKeyPair,
  keyId,
  keyPairFromSecret,
  loadOrCreateNodeKey,
  peerIdOf,
  signPassport,
  verifyPassport,
} from '../../runtime/identity/index.ts'
import { tempDir } from '../helpers/node.ts'

describe('ids', () => {
  test('RIPEMD-160 matches the reference vector', () => {
    // RIPEMD-160("abc") from the algorithm's authors.
    expect(Buffer.from(ripemd160(new TextEncoder().encode('abc'))).toString('hex')).toBe('8eb208f7e05d987a9b044a8e98c6b087f15a0bfc')
  })

  test('key id is base64url of RIPEMD-160 of the public key: 27 chars', () => {
    const k = generateKeyPair()
    expect(k.id).toHaveLength(27)
    expect(k.id).toBe(Buffer.from(ripemd160(k.publicKey)).toString('base64url'))
    expect(keyId(k.publicKey)).toBe(k.id)
  })

  test('peer id equals the one libp2p derives from the same key', async () => {
    const seed = new Uint8Array(32).fill(7)
    const ours = peerIdOf(keyPairFromSecret(seed).publicKey)
    const theirs = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString()
    expect(ours).toBe(theirs)
  })
})

describe('node key file', () => {
  test('created once with mode 0600, then loaded unchanged', () => {
    using dir = tempDir()
    const warnings: string[] = []
    const a = loadOrCreateNodeKey(dir, (m) => warnings.push(m))
    expect(a.created).toBe(true)
    expect(statSync(join(dir, 'keys', 'node.key')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700)
    const b = loadOrCreateNodeKey(dir, (m) => warnings.push(m))
    expect(b.created).toBe(false)
    expect(b.key.id).toBe(a.key.id)
    expect(warnings).toEqual([])
  })

  test('a key file readable by others is repaired to 0600 with a warning', () => {
    using dir = tempDir()
    loadOrCreateNodeKey(dir, () => {})
    chmodSync(join(dir, 'keys', 'node.key'), 0o644)
    const warnings: string[] = []
    loadOrCreateNodeKey(dir, (m) => warnings.push(m))
    expect(statSync(join(dir, 'keys', 'node.key')).mode & 0o777).toBe(0o600)
    expect(warnings[0]).toContain('readable by others')
  })

  test('a corrupt or tampered key file is refused, not replaced', () => {
    using dir = tempDir()
    loadOrCreateNodeKey(dir, () => {})
    const path = join(dir, 'keys', 'node.key')
    const file = JSON.parse(readFileSync(path, 'utf8'))
    writeFileSync(path, JSON.stringify({ ...file, id: 'A'.repeat(27) }))
    expect(() => loadOrCreateNodeKey(dir, () => {})).toThrow('does not match its key')
    writeFileSync(path, '{ half')
    expect(() => loadOrCreateNodeKey(dir, () => {})).toThrow('unreadable')
    expect(readFileSync(path, 'utf8')).toBe('{ half')
  })
})

describe('passports', () => {
  const user = generateKeyPair()
  const node = generateKeyPair().id
  const now = 1_800_000_000

  test('sign and verify: signer, data, audience and window come back', () => {
    const ppt = signPassport(user, { audience: node, data: { CertFor: 'Self', note: 'a;b=c%d' }, notBefore: now, ttl: 600 })
    const p = verifyPassport(ppt, { audience: node, now: now + 10 })
    expect(p.signer).toBe(user.id)
    expect(p.data).toEqual({ CertFor: 'Self', note: 'a;b=c%d' })
    expect(p.audience).toBe(node)
    expect(p.notAfter - p.notBefore).toBe(600)
    const wire = JSON.parse(ppt)
    expect(wire.SignerID).toBe(user.id)
    expect(wire.Data).toContain('CertFor=Self;')
  })

  test('data encoding is sorted k=v; and escapes separators', () => {
    expect(encodeData({ b: '2', a: 'x;y=z' })).toBe('a=x%3By%3Dz;b=2;')
    expect(decodeData('a=x%3By%3Dz;b=2;')).toEqual({ a: 'x;y=z', b: '2' })
  })

  test('refused: another audience, expired, not yet valid', () => {
    const ppt = signPassport(user, { audience: node, notBefore: now, ttl: 600 })
    expect(() => verifyPassport(ppt, { audience: generateKeyPair().id, now })).toThrow('not this node')
    expect(() => verifyPassport(ppt, { audience: node, now: now + 600 + 61 })).toThrow('expired')
    expect(() => verifyPassport(ppt, { audience: node, now: now - 120 })).toThrow('not valid yet')
    // Within the tolerated clock skew it passes.
    expect(verifyPassport(ppt, { audience: node, now: now - 30 }).signer).toBe(user.id)
  })

  test('refused: any change to data, window, signer or signature', () => {
    const ppt = signPassport(user, { audience: node, data: { CertFor: 'Self' }, notBefore: now })
    const wire = JSON.parse(ppt)
    const other = generateKeyPair()
    const forged = [
      { ...wire, Data: wire.Data.replace('CertFor=Self', 'CertFor=App') },
      { ...wire, Data: wire.Data.replace(/NotAfter=\d+/, `NotAfter=${now + 999999}`) },
      { ...wire, SignerID: other.id },
      { ...wire, SignerPK: Buffer.from(other.publicKey).toString('base64url'), SignerID: other.id },
      { ...wire, Signature: wire.Signature.slice(0, -4) + 'AAAA' },
      { ...wire, Version: 2 },
    ]
    for (const f of forged) expect(() => verifyPassport(JSON.stringify(f), { audience: node, now })).toThrow()
  })

  test('refused: garbage, oversize, reserved keys, bad ttl', () => {
    for (const bad of ['', 'not json', '{}', '[]', 'null', '{"Version":1,"KeyType":"ed25519"}', 'x'.repeat(10_000)]) {
      expect(() => verifyPassport(bad, { audience: node })).toThrow()
    }
    expect(() => signPassport(user, { audience: node, data: { Audience: 'x' } })).toThrow('reserved key Audience')
    expect(() => signPassport(user, { audience: node, ttl: 0 })).toThrow('ttl')
    expect(() => signPassport(user, { audience: node, ttl: 8 * 86400 })).toThrow('ttl')
    expect(() => signPassport(user, { audience: '' })).toThrow('audience')
  })
})

describe('signing domains and passport limits', () => {
  const user = generateKeyPair()
  const node = generateKeyPair().id

  test('fields: the domain tag first, strings and bytes length-prefixed, numbers as u64', () => {
    const { fields } = identity
    expect([...fields('t', ['ab', new Uint8Array([9]), 258])]).toEqual([0, 0, 0, 1, 116, 0, 0, 0, 2, 97, 98, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 1, 2])
    // Different tags never give the same bytes for the same fields.
    expect(fields(identity.DOMAIN.msgUser, ['x'])).not.toEqual(fields(identity.DOMAIN.pubUser, ['x']))
  })

  test('signData covers the Sign prefix: it verifies with verifyData only', () => {
    const data = new TextEncoder().encode('PPT1;Signer=x;')
    const sig = identity.signData(user, data)
    expect(identity.verifyData(user.publicKey, data, sig)).toBe(true)
    expect(identity.verify(user.publicKey, data, sig)).toBe(false)
    expect(identity.SIGN_PREFIX.startsWith('PPT1;')).toBe(false)
  })

  test('every passport gets its own Nonce, which is reserved; the hash names the signed content', () => {
    const a = signPassport(user, { audience: node, notBefore: 1_800_000_000 })
    const b = signPassport(user, { audience: node, notBefore: 1_800_000_000 })
    expect(a).not.toBe(b)
    const pa = verifyPassport(a, { audience: node, now: 1_800_000_010 })
    expect(pa.data).toEqual({})
    expect(pa.hash).not.toBe(verifyPassport(b, { audience: node, now: 1_800_000_010 }).hash)
    // The same statement spelled differently is the same passport.
    expect(verifyPassport(JSON.stringify(JSON.parse(a), null, 2), { audience: node, now: 1_800_000_010 }).hash).toBe(pa.hash)
    expect(() => signPassport(user, { audience: node, data: { Nonce: 'mine' } })).toThrow('reserved key Nonce')
  })

  test('maxValiditySec refuses a longer window; maxTtl bounds signing', () => {
    const week = signPassport(user, { audience: node, notBefore: 1_800_000_000, ttl: 7 * 86400 })
    expect(verifyPassport(week, { audience: node, now: 1_800_000_010, maxValiditySec: 7 * 86400 }).signer).toBe(user.id)
    expect(() => verifyPassport(week, { audience: node, now: 1_800_000_010, maxValiditySec: 3600 })).toThrow('longer than the 3600 s this node accepts')
    expect(() => signPassport(user, { audience: node, ttl: 7200, maxTtl: 3600 })).toThrow('ttl must be 1..3600')
  })
})
