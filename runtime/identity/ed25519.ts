// Ed25519 through the runtime's native crypto: public keys, signatures and their checks, with no
// curve arithmetic in JS (which the JIT compiled at every start, several MB an idle node kept).
import { createPrivateKey, createPublicKey, sign as nativeSign, verify as nativeVerify, type KeyObject } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'

/** DER headers of an Ed25519 private key (PKCS#8) and public key (SPKI); the raw 32 bytes follow. */
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')

const privateKey = (seed: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: 'der', type: 'pkcs8' })

/** The public key of a 32-byte seed (RFC 8032). */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(SPKI.length))
}

/** RFC 8032 signatures are deterministic: the same bytes as any other correct implementation. */
export function signEd25519(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(nativeSign(null, message, privateKey(seed)))
}

/**
 * True when the signature is valid under the rules the node has always applied (@noble/curves'
 * ZIP-215 rules). Native verification is stricter (canonical encodings, no cofactor), so what it
 * accepts those rules accept too; only what it refuses is asked again of the JS implementation —
 * honest signatures never reach it, so its arithmetic is compiled only when someone sends a bad one.
 */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI, publicKey]), format: 'der', type: 'spki' })
    if (nativeVerify(null, message, key, signature)) return true
  } catch {
    // Not a point native code takes: the JS rules decide.
  }
  return ed25519.verify(signature, message, publicKey)
}
