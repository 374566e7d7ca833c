// Signing domains: every signature a key makes covers a tag saying what kind of statement it is,
// so a signature made for one purpose never passes for another (a Sign result is no passport).
import { sign, verify, type KeyPair } from './keys.ts'

/**
 * What each kind of signature covers, by its first bytes:
 * - passports: "PPT1;" + Data (passport.ts)
 * - the Sign syscall: SIGN_PREFIX + the caller's bytes
 * - app packages: APP_PREFIX + fields("leither-app/1", …) (runtime/apps/package.ts)
 * - messages and app events: fields(tag, …): a u32 length first, so a zero byte first
 * - ledger blocks: COIN_PREFIX + the block's CBOR body; notaries' co-signatures: NOTARY_PREFIX + the block hash
 * None is a prefix of another, so no signature of one kind verifies as another.
 */
export const SIGN_PREFIX = 'LEITHER-SIGN1;'
/** An app package's author signature: the manifest's name and version and every file's hash. */
export const APP_PREFIX = 'LEITHER-APP1;'
/** A ledger block, signed by its account's key (runtime/ledger/block.ts). */
export const COIN_PREFIX = 'LEITHER-COIN1;'
/** A notary's co-signature of a ledger block's hash (runtime/ledger/notary.ts). */
export const NOTARY_PREFIX = 'LEITHER-NOTARY1;'

/** A prefix's bytes followed by data: what a signature of that kind covers. */
export function prefixed(prefix: string, data: Uint8Array): Uint8Array {
  const p = new TextEncoder().encode(prefix)
  const out = new Uint8Array(p.length + data.length)
  out.set(p)
  out.set(data, p.length)
  return out
}

export const DOMAIN = {
  /** The sending node's signature of a message envelope. */
  msgNode: 'leither-msg/1',
  /** The sending user's signature of a message: recipient, time, id, app and body. */
  msgUser: 'leither-msg-user/1',
  /** The publishing user's signature of an app event: topic, time and data. */
  pubUser: 'leither-pub-user/1',
} as const

const text = new TextEncoder()

/** What Sign signs and Verify checks: the prefix and the data. */
export function signBytes(data: Uint8Array): Uint8Array {
  const prefix = text.encode(SIGN_PREFIX)
  const out = new Uint8Array(prefix.length + data.length)
  out.set(prefix)
  out.set(data, prefix.length)
  return out
}

export const signData = (key: KeyPair, data: Uint8Array): Uint8Array => sign(key, signBytes(data))
export const verifyData = (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean => verify(publicKey, signBytes(data), signature)

/**
 * A fixed layout of fields for signing: each string or byte field length-prefixed (u32 big-endian),
 * each number a u64 big-endian, the domain tag first. Fixed by this layout rather than by an
 * encoder's choices, so any implementation can rebuild it.
 */
export function fields(domain: string, parts: readonly (string | Uint8Array | number)[]): Uint8Array {
  const items = [domain, ...parts].map((p) => (typeof p === 'string' ? text.encode(p) : p))
  const size = items.reduce<number>((n, p) => n + (typeof p === 'number' ? 8 : 4 + p.length), 0)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const p of items) {
    if (typeof p === 'number') {
      view.setBigUint64(at, BigInt(p))
      at += 8
    } else {
      view.setUint32(at, p.length)
      out.set(p, at + 4)
      at += 4 + p.length
    }
  }
  return out
}
