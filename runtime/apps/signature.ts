// The author's signature of an app package: a file at SIGNATURE_PATH listing every other file
// with its size and SHA-256, signed with the author's user key (domain APP_PREFIX).
import { InvalidParams, InvalidSignature } from '../errors.ts'
import { APP_PREFIX, fields, fromBase64Url, keyId, sign, toBase64Url, verify, type KeyPair } from '../identity/index.ts'

/** Where the signature lives in a package and in the installed tree; `.lapp/` is reserved. */
export const SIGNATURE_PATH = '.lapp/signature.json'
export const RESERVED_DIR = '.lapp'
export const PACKAGE_FORMAT = 'leither-app/1'

/** [path, size in bytes, SHA-256 as lowercase hex], sorted by path. */
export type FileHash = [string, number, string]

export interface PackageSignature {
  format: typeof PACKAGE_FORMAT
  /** The author's user id (the key id of `key`). */
  author: string
  /** The author's Ed25519 public key, base64url. */
  key: string
  name: string
  version: string
  files: FileHash[]
  /** Ed25519 signature of signedBytes(), base64url. */
  sig: string
}

const utf8 = new TextEncoder()

/** APP_PREFIX, then the fields in a fixed layout: author, name, version, then each file. */
function signedBytes(s: Omit<PackageSignature, 'sig' | 'key' | 'format'>): Uint8Array {
  const parts: (string | number | Uint8Array)[] = [s.author, s.name, s.version, s.files.length]
  for (const [path, size, sha] of s.files) parts.push(path, size, Buffer.from(sha, 'hex'))
  const body = fields(PACKAGE_FORMAT, parts)
  const prefix = utf8.encode(APP_PREFIX)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

export const sha256Hex = (bytes: Uint8Array): string => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')

const byPath = (a: FileHash, b: FileHash) => Buffer.compare(utf8.encode(a[0]), utf8.encode(b[0]))

export function signPackage(key: KeyPair, name: string, version: string, files: FileHash[]): PackageSignature {
  const sorted = [...files].sort(byPath)
  const body = { author: key.id, name, version, files: sorted }
  return { format: PACKAGE_FORMAT, author: key.id, key: toBase64Url(key.publicKey), name, version, files: sorted, sig: toBase64Url(sign(key, signedBytes(body))) }
}

const badSig = (msg: string): never => {
  throw new InvalidSignature(`package signature: ${msg}`)
}

/** Parses and verifies the signature file: its shape, that the key is the author's, and the signature. */
export function verifySignatureFile(bytes: Uint8Array): PackageSignature {
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return badSig(`${SIGNATURE_PATH} is not JSON`)
  }
  const s = v as PackageSignature
  const keys = ['format', 'author', 'key', 'name', 'version', 'files', 'sig']
  if (!s || typeof s !== 'object' || Array.isArray(s) || Object.keys(s).some((k) => !keys.includes(k))) badSig(`${SIGNATURE_PATH} must be an object with only ${keys.join(', ')}`)
  if (s.format !== PACKAGE_FORMAT) badSig(`format must be "${PACKAGE_FORMAT}"`)
  for (const k of ['author', 'key', 'name', 'version', 'sig'] as const) if (typeof s[k] !== 'string') badSig(`"${k}" must be a string`)
  const okFile = (f: unknown) =>
    Array.isArray(f) && f.length === 3 && typeof f[0] === 'string' && Number.isSafeInteger(f[1]) && f[1] >= 0 && typeof f[2] === 'string' && /^[0-9a-f]{64}$/.test(f[2])
  if (!Array.isArray(s.files) || !s.files.every(okFile)) badSig('"files" must be a list of [path, size, sha256 hex]')
  for (let i = 1; i < s.files.length; i++) if (byPath(s.files[i - 1], s.files[i]) >= 0) badSig('"files" must be sorted by path without repeats')
  let publicKey: Uint8Array
  let sig: Uint8Array
  try {
    publicKey = fromBase64Url(s.key, 'key')
    sig = fromBase64Url(s.sig, 'sig')
  } catch (err) {
    if (err instanceof InvalidParams) return badSig(err.message)
    throw err
  }
  if (keyId(publicKey) !== s.author) badSig(`the key in the package is not the key of its author ${s.author}`)
  if (!verify(publicKey, signedBytes(s), sig)) badSig(`the signature does not match the files; the package was changed after ${s.author} signed it`)
  return s
}
