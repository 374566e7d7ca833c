// Ed25519 for the ledger: identity's native signatures (its key objects kept per key), and the
// strict native check alone, so every node applies the same rule to a block's signature.
import { signEd25519, verifyEd25519Strict } from '../identity/ed25519.ts'
import type { KeyPair } from '../identity/index.ts'

/** The Ed25519 signature of `message` with `key` (the same bytes identity's sign() makes). */
export function edSign(key: KeyPair, message: Uint8Array): Uint8Array {
  return signEd25519(key.secretKey, message)
}

/** Whether `signature` is `publicKey`'s Ed25519 signature of `message`; false on malformed input. */
export function edVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyEd25519Strict(signature, message, publicKey)
}
