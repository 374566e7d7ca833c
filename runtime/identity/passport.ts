// Passports (PPT): signed, time-limited statements bound to one audience node.
//
// Wire form follows Leither's PPT: a JSON object whose `Data` is a sorted `k=v;` string, so a
// passport stays readable by Leither-style tools. Reserved keys inside Data: Signer, Audience,
// NotBefore, NotAfter (unix seconds), Nonce. The signature covers `PPT1;` + Data, hence all of them:
// changing the audience or the validity window breaks the signature. Nonce (reserved too) is random:
// Logout ends the passport it logged in with, and two passports signed in the same second with the
// same data would otherwise be one and the same.
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import { InvalidParams, InvalidSignature } from '../errors.ts'
import { fromBase64Url, keyId, sign, toBase64Url, verify, type KeyPair } from './keys.ts'

export interface Passport {
  readonly signer: string
  readonly signerKey: Uint8Array
  /** Caller data, reserved keys removed. */
  readonly data: Readonly<Record<string, string>>
  readonly audience: string
  readonly notBefore: number
  readonly notAfter: number
  /** Names the signed statement (a hash of Data, which holds the signer): the same passport however its JSON is spelled. */
  readonly hash: string
}

export interface SignOptions {
  data?: Record<string, string>
  /** Node id the passport is for; verification anywhere else fails (no replay on other nodes). */
  audience: string
  /** Seconds; defaults to now. */
  notBefore?: number
  /** Lifetime in seconds (default one hour, at most 7 days as Leither's SignPPT). */
  ttl?: number
  /** Longest ttl allowed (default 7 days). */
  maxTtl?: number
}

const RESERVED = ['Signer', 'Audience', 'NotBefore', 'NotAfter', 'Nonce'] as const
const PREFIX = 'PPT1;'
/** The default longest validity of a passport, signed or accepted for login (config passportMaxSec). */
export const PASSPORT_MAX_SEC = 7 * 24 * 3600
/** Passports arrive from the network; refuse anything bigger before parsing it. */
export const MAX_PASSPORT_BYTES = 8192

const escape = (s: string) => s.replace(/[%;=]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
const unescape = (s: string) => s.replace(/%(25|3B|3D)/g, (_, h) => String.fromCharCode(parseInt(h, 16)))

export function encodeData(fields: Record<string, string>): string {
  return Object.keys(fields)
    .sort()
    .map((k) => `${escape(k)}=${escape(fields[k])};`)
    .join('')
}

export function decodeData(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of text.split(';')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new InvalidSignature(`passport data has a malformed pair "${pair.slice(0, 40)}"`)
    out[unescape(pair.slice(0, eq))] = unescape(pair.slice(eq + 1))
  }
  return out
}

const nowSec = () => Math.floor(Date.now() / 1000)

export function signPassport(key: KeyPair, opts: SignOptions): string {
  const ttl = opts.ttl ?? 3600
  const max = opts.maxTtl ?? PASSPORT_MAX_SEC
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > max) throw new InvalidParams(`ttl must be 1..${max} seconds`)
  if (!opts.audience) throw new InvalidParams('a passport needs an audience node id')
  const data = { ...(opts.data ?? {}) }
  for (const k of RESERVED) {
    if (k in data) throw new InvalidParams(`passport data may not set the reserved key ${k}`)
  }
  const notBefore = opts.notBefore ?? nowSec()
  const fields = {
    ...data,
    Signer: key.id,
    Nonce: toBase64Url(randomBytes(12)),
    Audience: opts.audience,
    NotBefore: String(notBefore),
    NotAfter: String(notBefore + ttl),
  }
  const text = encodeData(fields)
  const signature = sign(key, new TextEncoder().encode(PREFIX + text))
  return JSON.stringify({
    Version: 1,
    KeyType: 'ed25519',
    SignerID: key.id,
    SignerPK: toBase64Url(key.publicKey),
    Data: text,
    Signature: toBase64Url(signature),
  })
}

/** Parses and checks the signature and signer; validity window and audience are checked by `verifyPassport`. */
function parseSigned(text: string): Passport {
  if (typeof text !== 'string' || text.length === 0) throw new InvalidSignature('passport is empty')
  if (text.length > MAX_PASSPORT_BYTES) throw new InvalidSignature(`passport is larger than ${MAX_PASSPORT_BYTES} bytes`)
  let wire: any
  try {
    wire = JSON.parse(text)
  } catch {
    throw new InvalidSignature('passport is not JSON')
  }
  if (wire?.Version !== 1 || wire.KeyType !== 'ed25519') throw new InvalidSignature('passport version or key type is not supported')
  for (const f of ['SignerID', 'SignerPK', 'Data', 'Signature']) {
    if (typeof wire[f] !== 'string') throw new InvalidSignature(`passport field ${f} is missing`)
  }
  const signerKey = fromBase64Url(wire.SignerPK, 'SignerPK')
  if (keyId(signerKey) !== wire.SignerID) throw new InvalidSignature('passport SignerID does not match SignerPK')
  const message = new TextEncoder().encode(PREFIX + wire.Data)
  if (!verify(signerKey, message, fromBase64Url(wire.Signature, 'Signature'))) {
    throw new InvalidSignature('passport signature is invalid')
  }
  const fields = decodeData(wire.Data)
  if (fields.Signer !== wire.SignerID) throw new InvalidSignature('passport Signer does not match SignerID')
  const notBefore = Number(fields.NotBefore)
  const notAfter = Number(fields.NotAfter)
  if (!Number.isSafeInteger(notBefore) || !Number.isSafeInteger(notAfter)) {
    throw new InvalidSignature('passport validity window is malformed')
  }
  const data: Record<string, string> = { ...fields }
  for (const k of RESERVED) delete data[k]
  const hash = toBase64Url(sha256(new TextEncoder().encode(wire.Data)))
  return { signer: wire.SignerID, signerKey, data, audience: fields.Audience ?? '', notBefore, notAfter, hash }
}

export interface VerifyOptions {
  /** This node's id: a passport for another node is refused. */
  audience: string
  /** Seconds; defaults to now. */
  now?: number
  /** Clock difference tolerated between signer and verifier, seconds. */
  skew?: number
  /** Longest validity window accepted, seconds (e.g. config passportMaxSec for logins); none when absent. */
  maxValiditySec?: number
}

/** Verifies signature, audience and validity window; throws InvalidSignature naming the failed check. */
export function verifyPassport(text: string, opts: VerifyOptions): Passport {
  const ppt = parseSigned(text)
  const now = opts.now ?? nowSec()
  const skew = opts.skew ?? 60
  if (ppt.audience !== opts.audience) {
    throw new InvalidSignature(`passport is for node ${ppt.audience || '(none)'}, not this node ${opts.audience}`)
  }
  if (now + skew < ppt.notBefore) throw new InvalidSignature('passport is not valid yet (check the clocks)')
  if (now - skew >= ppt.notAfter) throw new InvalidSignature('passport has expired; sign a new one')
  const max = opts.maxValiditySec
  if (max !== undefined && ppt.notAfter - ppt.notBefore > max) {
    throw new InvalidSignature(
      `passport is valid for ${ppt.notAfter - ppt.notBefore} s, longer than the ${max} s this node accepts (passportMaxSec); sign one valid for at most that`,
    )
  }
  return ppt
}
