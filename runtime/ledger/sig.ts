// Ed25519 for the ledger through node:crypto (OpenSSL): ~30× @noble's speed under Bun. Ed25519 is
// deterministic, so its signatures are byte for byte those of identity's sign(); key objects are
// made once per key and kept.
import { createPrivateKey, createPublicKey, sign as osslSign, verify as osslVerify, type KeyObject } from 'node:crypto'
import type { KeyPair } from '../identity/index.ts'

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

const privateKeys = new WeakMap<KeyPair, KeyObject>()
/** Public keys by their hex: a bounded cache (notaries and accounts are reused; strangers are not kept forever). */
const publicKeys = new Map<string, KeyObject>()
const PUBLIC_CACHE = 4096

function privateKeyOf(key: KeyPair): KeyObject {
  let k = privateKeys.get(key)
  if (!k) {
    k = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.secretKey]), format: 'der', type: 'pkcs8' })
    privateKeys.set(key, k)
  }
  return k
}

function publicKeyOf(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString('hex')
  let k = publicKeys.get(hex)
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' })
    if (publicKeys.size >= PUBLIC_CACHE) publicKeys.delete(publicKeys.keys().next().value!)
    publicKeys.set(hex, k)
  }
  return k
}

/** The Ed25519 signature of `message` with `key` (the same bytes identity's sign() makes). */
export function edSign(key: KeyPair, message: Uint8Array): Uint8Array {
  return new Uint8Array(osslSign(null, message, privateKeyOf(key)))
}

/** Whether `signature` is `publicKey`'s Ed25519 signature of `message`; false on malformed input. */
export function edVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return osslVerify(null, message, publicKeyOf(publicKey), signature)
  } catch {
    return false
  }
}
