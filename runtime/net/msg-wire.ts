// The /leither/msg/1.0.0 protocol: the signed message envelope, its schema, and how it is signed
// and verified. One envelope per stream; the answer says whether it was stored (or was a repeat).
import { randomBytes } from 'node:crypto'
import { keyId, sign, toBase64Url, verify, type KeyPair } from '../identity/index.ts'
import { bool, bytes, int, object, optional, str, type ProtocolSpec } from './wire.ts'

export const MSG_PROTOCOL = '/leither/msg/1.0.0'
/** Largest frame on the protocol: the body limit plus room for the other fields. */
export const MSG_MAX_FRAME = 256 * 1024
/** Largest encoded body of one message. */
export const MSG_MAX_BODY = 224 * 1024
/** Domain tag of the signed bytes, so a message signature can never pass for another kind. */
const SIGN_DOMAIN = 'leither-msg/1'

/** A message as it travels: the fields of Leither's Message plus the sending node's proof. */
export interface Envelope {
  readonly v: 1
  /** Random, chosen by the sender; the receiver keeps one copy per (fromNode, id). */
  readonly id: string
  /** The sending user's id, vouched for by the sending node (which checked their session). */
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
}

export type Unsigned = Omit<Envelope, 'sig' | 'nodePk' | 'fromNode' | 'v'>

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
 * The bytes the node signs: the domain tag and every field that means something, each
 * length-prefixed (u32 big-endian), sentAt as a u64. Fixed by this layout rather than by an
 * encoder's choices, so any implementation can check it.
 */
export function signedBytes(m: Omit<Envelope, 'sig' | 'nodePk' | 'v'>): Uint8Array {
  const text = new TextEncoder()
  const parts: Uint8Array[] = [SIGN_DOMAIN, m.id, m.from, m.fromNode, m.to, m.app].map((s) => text.encode(s))
  parts.push(m.body)
  const size = parts.reduce((n, p) => n + 4 + p.length, 0) + 8
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const p of parts) {
    view.setUint32(at, p.length)
    out.set(p, at + 4)
    at += 4 + p.length
  }
  view.setBigUint64(at, BigInt(m.sentAt))
  return out
}

export function sealEnvelope(nodeKey: KeyPair, m: Unsigned): Envelope {
  const fields = { ...m, fromNode: nodeKey.id }
  return { v: 1, ...fields, nodePk: nodeKey.publicKey, sig: sign(nodeKey, signedBytes(fields)) }
}

/** Why an envelope is not genuine, or undefined when it is. */
export function forgery(e: Envelope): string | undefined {
  if (keyId(e.nodePk) !== e.fromNode) return 'nodePk is not the key of fromNode'
  if (e.sentAt < 0) return 'negative sentAt'
  if (!verify(e.nodePk, signedBytes(e), e.sig)) return 'bad signature'
  return undefined
}
