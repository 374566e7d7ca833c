// Signed MiMei version records: what an author announces for a version, how anyone verifies it,
// and the DHT keys and provider CIDs derived from MiMei ids.
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { fromBase64Url, keyId, sign, toBase64Url, verify, type KeyPair } from '../identity/index.ts'
import { mimeiId } from '../mimei/index.ts'
import type { ReceivedVersion } from '../mimei/versions.ts'
import { decodeCbor, encodeCbor, WireError, object, str, int, bytes, list } from './wire.ts'

/** A version as its author signed it: the facts a replica installs it by, and what proves them. */
export interface VersionRecord extends ReceivedVersion {
  /** The author's Ed25519 public key, so anyone can check `author` and the signature. */
  authorKey: Uint8Array
  /** MiMei and content this version references (MMAddRef), followed by sync to the depth asked. */
  refs: string[]
  sig: Uint8Array
}

export const versionRecordSchema = object({
  mid: str(64),
  author: str(64),
  authorKey: bytes(32),
  app: str(256),
  ext: str(256),
  mark: str(256),
  type: int,
  ver: int,
  cid: str(128),
  seq: int,
  size: int,
  created: int,
  refs: list(str(128), 256),
  sig: bytes(64),
})

/** The signed bytes: every field but the signature, in a fixed order. */
function signedBytes(r: Omit<VersionRecord, 'sig'>): Uint8Array {
  return encodeCbor(['leither-version/1', r.mid, r.author, r.authorKey, r.app, r.ext, r.mark, r.type, r.ver, r.cid, r.seq, r.size, r.created, r.refs])
}

export function signRecord(author: KeyPair, r: Omit<VersionRecord, 'sig' | 'author' | 'authorKey'>): VersionRecord {
  const unsigned = { ...r, author: author.id, authorKey: author.publicKey }
  return { ...unsigned, sig: sign(author, signedBytes(unsigned)) }
}

/**
 * Checks that a record is what it claims: the key hashes to the author id, the MiMei id derives
 * from that author (so nobody else can announce versions of it), the signature holds, and the
 * CID parses. Returns the typed record or throws WireError.
 */
export function verifyRecord(value: unknown): VersionRecord {
  const r = versionRecordSchema(value) as VersionRecord
  if (keyId(r.authorKey) !== r.author) throw new WireError('record author does not match its key')
  if (mimeiId(r.author, r.app, r.ext, r.mark) !== r.mid) throw new WireError('record MiMei id does not belong to its author')
  if (r.ver < 1 || r.seq < 0 || r.size < 0) throw new WireError('record numbers are out of range')
  try {
    CID.parse(r.cid)
  } catch {
    throw new WireError('record cid is not a CID')
  }
  const { sig, ...unsigned } = r
  if (!verify(r.authorKey, signedBytes(unsigned), sig)) throw new WireError('record signature is invalid')
  return r
}

export const encodeRecord = (r: VersionRecord) => encodeCbor(r)
export const decodeRecord = (b: Uint8Array) => verifyRecord(decodeCbor(b))

/** DHT record key of a MiMei's newest version record. */
export const DHT_NAMESPACE = 'leither-mimei'
export const recordKey = (mid: string) => new TextEncoder().encode(`/${DHT_NAMESPACE}/${mid}`)

/** The CID under which a MiMei's providers announce themselves (sha2-256 of a fixed prefix + id). */
export function providerCid(kind: 'mimei' | 'user' | 'node', id: string): CID {
  const hash = new Bun.CryptoHasher('sha256').update(`leither-${kind}:${id}`).digest() as Uint8Array
  return CID.createV1(0x55, Digest.create(0x12, new Uint8Array(hash)))
}

/** kad-dht validator: a record under /leither-mimei/<mid> must be a valid record of that MiMei. */
export async function validateDhtRecord(key: Uint8Array, value: Uint8Array): Promise<void> {
  const r = decodeRecord(value)
  const want = new TextDecoder().decode(key)
  if (want !== `/${DHT_NAMESPACE}/${r.mid}`) throw new WireError('record stored under another MiMei key')
}

/** kad-dht selector: the newest version wins (then the higher sequence number). */
export function selectDhtRecord(_key: Uint8Array, values: Uint8Array[]): number {
  let best = 0
  let bestRank: [number, number] = [-1, -1]
  values.forEach((v, i) => {
    try {
      const r = decodeRecord(v)
      if (r.ver > bestRank[0] || (r.ver === bestRank[0] && r.seq > bestRank[1])) {
        best = i
        bestRank = [r.ver, r.seq]
      }
    } catch {}
  })
  return best
}

export const recordSummary = (r: VersionRecord) => ({ mid: r.mid, author: r.author, ver: r.ver, cid: r.cid, seq: r.seq, size: r.size, created: r.created, authorKey: toBase64Url(r.authorKey) })
export { fromBase64Url }
