// Keys for end-to-end encryption between two users: X25519 of their Ed25519 keys (converted to
// Montgomery form), stretched with HKDF-SHA-256 over a context and both user ids. Each side
// derives the same 32 bytes with its own secret key and the other's public key; nobody else can.
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidParams } from '../errors.ts'
import { keyId, type KeyPair } from './keys.ts'

/** The shared key of `mine` and the owner of `peerPublicKey` for `context` (an app's data space). */
export function boxKey(mine: KeyPair, peerPublicKey: Uint8Array, context: string): Uint8Array {
  if (peerPublicKey.length !== 32 || !ed25519.utils.isValidPublicKey(peerPublicKey)) throw new InvalidParams('the peer public key is not an Ed25519 public key (32 bytes)')
  const shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(mine.secretKey), ed25519.utils.toMontgomery(peerPublicKey))
  if (shared.every((b) => b === 0)) throw new InvalidParams('the peer public key is of low order')
  const [a, b] = [keyId(mine.publicKey), keyId(peerPublicKey)].sort()
  return hkdf(sha256, shared, undefined, new TextEncoder().encode(`leither-box/1\n${context}\n${a}\n${b}`), 32)
}
