// Ed25519 through the runtime's native crypto: public keys, signatures and their checks, with no
// curve arithmetic in JS (which the JIT compiled at every start, several MB an idle node kept).
// Key objects are made once per key and kept: the ledger signs and checks thousands a second.
import { createPrivateKey, createPublicKey, sign as nativeSign, verify as nativeVerify, type KeyObject } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'

/** DER headers of an Ed25519 private key (PKCS#8) and public key (SPKI); the raw 32 bytes follow. */
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')

/** By the seed's array (a key pair keeps its own): gone with the key pair. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>()
/** Public keys by their hex: bounded (notaries and accounts are reused; strangers are not kept forever). */
const publicKeys = new Map<string, KeyObject>()
const PUBLIC_CACHE = 4096

function privateKey(seed: Uint8Array): KeyObject {
  let k = privateKeys.get(seed)
  if (!k) {
    k = createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: 'der', type: 'pkcs8' })
    privateKeys.set(seed, k)
  }
  return k
}

function publicKey(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString('hex')
  let k = publicKeys.get(hex)
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' })
    if (publicKeys.size >= PUBLIC_CACHE) publicKeys.delete(publicKeys.keys().next().value!)
    publicKeys.set(hex, k)
  }
  return k
}

/** The public key of a 32-byte seed (RFC 8032). */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(SPKI.length))
}

/** RFC 8032 signatures are deterministic: the same bytes as any other correct implementation. */
export function signEd25519(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(nativeSign(null, message, privateKey(seed)))
}

/** The native check alone (canonical encodings, no cofactor); false on malformed input. */
export function verifyEd25519Strict(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  if (key.length !== 32 || signature.length !== 64) return false
  try {
    return nativeVerify(null, message, publicKey(key), signature)
  } catch {
    return false
  }
}

/**
 * True when the signature is valid under the rules the node has always applied (@noble/curves'
 * ZIP-215 rules). Native verification is stricter (canonical encodings, no cofactor), so what it
 * accepts those rules accept too; only what it refuses is asked again of the JS implementation —
 * honest signatures never reach it, so its arithmetic is compiled only when someone sends a bad one.
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  return verifyEd25519Strict(signature, message, key) || ed25519.verify(signature, message, key)
}
