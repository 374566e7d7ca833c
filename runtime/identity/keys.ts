// Ed25519 key pairs and the ids derived from them: Leither key ids and libp2p peer ids.
import { ripemd160 } from '@noble/hashes/legacy.js'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { InvalidParams } from '../errors.ts'
import { publicKeyOf, signEd25519, verifyEd25519 } from './ed25519.ts'

/** A signing identity: the node, or a user. `secretKey` is the 32-byte Ed25519 seed. */
export interface KeyPair {
  readonly id: string
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** Strict base64url decode: rejects other alphabets and padding so that an id has one spelling. */
export function fromBase64Url(text: string, what = 'value'): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new InvalidParams(`${what} is not base64url`)
  return new Uint8Array(Buffer.from(text, 'base64url'))
}

/**
 * Leither's key id ("sodiumv2"): base64url of RIPEMD-160 of the public key — 20 bytes, 27 chars.
 * Short enough to type, and equal for a key wherever it is used (node or user).
 */
export function keyId(publicKey: Uint8Array): string {
  return toBase64Url(ripemd160(publicKey))
}

/** True when `text` has the shape of a key id (27 base64url chars). */
export function isKeyId(text: unknown): text is string {
  return typeof text === 'string' && /^[A-Za-z0-9_-]{27}$/.test(text)
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(crypto.getRandomValues(new Uint8Array(32)))
}

export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== 32) throw new InvalidParams('an Ed25519 secret key is 32 bytes')
  const publicKey = publicKeyOf(secretKey)
  return { id: keyId(publicKey), publicKey, secretKey }
}

/** The libp2p peer id (`12D3KooW…`) of the same key, so one key names the node in both worlds. */
export function peerIdOf(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
}

export function sign(key: KeyPair, message: Uint8Array): Uint8Array {
  return signEd25519(key.secretKey, message)
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return verifyEd25519(signature, message, publicKey)
  } catch {
    return false
  }
}
