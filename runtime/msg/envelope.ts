// The /leither/msg/1.0.0 protocol: the signed message envelope, its schema, and how it is signed
// and verified. The sending user signs the message (so nobody else can send in their name), the
// sending node signs the envelope. One envelope per stream; the answer says whether it was stored.
import { randomBytes } from 'node:crypto'
import { DOMAIN, fields, keyId, sign, toBase64Url, verify, type KeyPair } from '../identity/index.ts'
import { bool, bytes, int, object, optional, str, type ProtocolSpec } from '../net/wire.ts'

export const MSG_PROTOCOL = '/leither/msg/1.0.0'
/** Largest frame on the protocol: the body limit plus room for the other fields. */
export const MSG_MAX_FRAME = 256 * 1024
/** Largest encoded body of one message. */
export const MSG_MAX_BODY = 224 * 1024
/** A message as it travels: the fields of Leither's Message, the sender's and the sending node's proofs. */
export interface Envelope {
  readonly v: 1
  /** Random, chosen by the sender; the receiver keeps one copy per (from, id). */
  readonly id: string
  /** The sending user's id: the key id of userPk, whose signature userSig proves it. */
  readonly from: string
  /** Key id of the sending node; must be the key id of nodePk. */
  readonly fromNode: string
  readonly nodePk: Uint8Array
  /** A user id or a node id. */
  readonly to: string
  /** App id, "" for the system. */
  readonly app: string
  /** The body, any Hprose value, encoded losslessly (runtime/mimei/db/core.ts encodeValue). */
  readonly body: Uint8Array
  /** Milliseconds since the epoch, by the sender's clock. */
  readonly sentAt: number
  /** Ed25519 signature of signedBytes(envelope) by the node key. */
  readonly sig: Uint8Array
  /** The sending user's public key. */
  readonly userPk: Uint8Array
  /** Ed25519 signature of userSignedBytes(envelope) by the sending user's key. */
  readonly userSig: Uint8Array
}

export type Unsigned = Omit<Envelope, 'sig' | 'nodePk' | 'fromNode' | 'v' | 'userPk' | 'userSig'>

export interface Receipt {
  ok: boolean
  /** True when the receiver already had this message. */
  dup?: boolean
}

const ID = str(64)
const KEY_ID = str(64)
export const envelopeSchema = object({
  v: (x) => {
    if (x !== 1) throw new Error('unknown envelope version')
    return 1 as const
  },
  id: ID,
  from: KEY_ID,
  fromNode: KEY_ID,
  nodePk: bytes(32),
  to: KEY_ID,
  app: str(128),
  body: bytes(MSG_MAX_BODY),
  sentAt: int,
  sig: bytes(64),
  userPk: bytes(32),
  userSig: bytes(64),
})

export const MSG_SPEC: ProtocolSpec<Envelope, Receipt> = {
  id: MSG_PROTOCOL,
  maxBytes: MSG_MAX_FRAME,
  request: envelopeSchema,
  response: object({ ok: bool, dup: optional(bool) }),
  timeoutMs: 20_000,
}

export const newMessageId = (): string => toBase64Url(randomBytes(16))

/**
 * The bytes the node signs: its domain tag and every field that means something, in the fixed
 * layout of identity/domains.ts `fields` (strings and bytes length-prefixed, sentAt a u64).
 */
export function signedBytes(m: Omit<Envelope, 'sig' | 'nodePk' | 'v' | 'userPk' | 'userSig'>): Uint8Array {
  return fields(DOMAIN.msgNode, [m.id, m.from, m.fromNode, m.to, m.app, m.body, m.sentAt])
}

/** The bytes the sending user signs: id, sender, recipient, app, body and time. Any node can rebuild them. */
export function userSignedBytes(m: Unsigned): Uint8Array {
  return fields(DOMAIN.msgUser, [m.id, m.from, m.to, m.app, m.body, m.sentAt])
}

/** Signs a message as its sender (`user`, whose id must be m.from) and as the sending node. */
export function sealEnvelope(nodeKey: KeyPair, user: KeyPair, m: Unsigned): Envelope {
  if (user.id !== m.from) throw new Error('a message is signed by the key of its sender')
  const f = { ...m, fromNode: nodeKey.id }
  return { v: 1, ...f, nodePk: nodeKey.publicKey, sig: sign(nodeKey, signedBytes(f)), userPk: user.publicKey, userSig: sign(user, userSignedBytes(m)) }
}

/** Why an envelope is not genuine, or undefined when it is. */
export function forgery(e: Envelope): string | undefined {
  if (keyId(e.nodePk) !== e.fromNode) return 'nodePk is not the key of fromNode'
  if (e.sentAt < 0) return 'negative sentAt'
  if (!verify(e.nodePk, signedBytes(e), e.sig)) return 'bad signature'
  if (keyId(e.userPk) !== e.from) return 'userPk is not the key of from'
  if (!verify(e.userPk, userSignedBytes(e), e.userSig)) return 'bad user signature'
  return undefined
}
