// Strict DAG-CBOR for the blocks file snapshots are made of: maps with text keys in canonical
// order, arrays, text, unsigned integers and CID links (tag 42). Standard IPLD tools can walk them.
import { CID } from 'multiformats/cid'
import { Corrupt } from '../../errors.ts'

/** A CID that the encoder writes as a link (tag 42), not as text. */
export class Link {
  constructor(readonly cid: string) {}
}
export const link = (cid: string) => new Link(cid)

export type Encodable = number | string | Link | Encodable[] | { readonly [key: string]: Encodable }
/** What decoding gives back: links come back as CID strings. */
export type Decoded = number | string | Uint8Array | Decoded[] | { [key: string]: Decoded }

const utf8 = new TextEncoder()

// CIDs as the blocks here spell them — CIDv1, raw or dag-cbor, sha2-256, base32 — are converted by
// hand: multiformats' general parser took 10 µs a link, 40 ms for the manifest of a 1 GiB file.
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
const B32_CODES = Uint8Array.from(B32, (c) => c.charCodeAt(0))
const B32_VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < B32.length; i++) B32_VALUE[B32.charCodeAt(i)] = i
const CID_BYTES = 36
const isCommonCid = (b: Uint8Array) => b.length === CID_BYTES && b[0] === 0x01 && (b[1] === 0x55 || b[1] === 0x71) && b[2] === 0x12 && b[3] === 0x20

/** The binary form of a CID given as text. */
export function cidBytes(text: string): Uint8Array {
  if (text.length === 59 && text[0] === 'b') {
    const out = new Uint8Array(CID_BYTES)
    let value = 0
    let bits = 0
    let j = 0
    let ok = true
    for (let i = 1; i < text.length && ok; i++) {
      const v = B32_VALUE[text.charCodeAt(i)] ?? -1
      if (v < 0) ok = false
      value = ((value << 5) | v) & 0x1fff
      bits += 5
      if (bits >= 8) {
        if (j < CID_BYTES) out[j] = (value >>> (bits - 8)) & 0xff
        j++
        bits -= 8
      }
    }
    // Exactly 36 bytes, and the unused low bits of the last character zero (the canonical text).
    if (ok && j === CID_BYTES && (value & ((1 << bits) - 1)) === 0 && isCommonCid(out)) return out
  }
  return CID.parse(text).bytes
}

/** The text form (base32) of a CID given as bytes; Corrupt-free: throws on a malformed CID. */
export function cidText(bytes: Uint8Array): string {
  if (!isCommonCid(bytes)) return CID.decode(bytes).toString()
  const out = new Array<number>(59)
  out[0] = 0x62 // 'b'
  let value = 0
  let bits = 0
  let j = 1
  for (let i = 0; i < CID_BYTES; i++) {
    value = ((value << 8) | bytes[i]) & 0xfff
    bits += 8
    while (bits >= 5) {
      out[j++] = B32_CODES[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  out[j] = B32_CODES[(value << (5 - bits)) & 31]
  return String.fromCharCode(...out)
}

class Writer {
  buf = new Uint8Array(256)
  len = 0
  private room(n: number) {
    if (this.len + n <= this.buf.length) return
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
    bigger.set(this.buf.subarray(0, this.len))
    this.buf = bigger
  }
  bytes(b: Uint8Array) {
    this.room(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }
  /** A major type with its argument in the shortest form, as DAG-CBOR requires. */
  head(major: number, n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot encode ${n} as an unsigned integer`)
    const m = major << 5
    if (n < 24) return this.bytes(Uint8Array.of(m | n))
    if (n < 0x100) return this.bytes(Uint8Array.of(m | 24, n))
    if (n < 0x10000) return this.bytes(Uint8Array.of(m | 25, n >> 8, n & 0xff))
    const b = new Uint8Array(n < 2 ** 32 ? 5 : 9)
    const view = new DataView(b.buffer)
    if (n < 2 ** 32) view.setUint32(1, n)
    else view.setBigUint64(1, BigInt(n))
    b[0] = m | (n < 2 ** 32 ? 26 : 27)
    this.bytes(b)
  }
}

/** Canonical key order: shorter encoded keys first, then bytewise. */
function keyOrder(a: Uint8Array, b: Uint8Array): number {
  return a.length - b.length || Buffer.compare(a, b)
}

function write(w: Writer, v: Encodable): void {
  if (typeof v === 'number') return w.head(0, v)
  if (typeof v === 'string') {
    const b = utf8.encode(v)
    w.head(3, b.length)
    return w.bytes(b)
  }
  if (v instanceof Link) {
    const cid = cidBytes(v.cid)
    w.head(6, 42)
    w.head(2, cid.length + 1)
    w.bytes(Uint8Array.of(0)) // the multibase identity prefix DAG-CBOR puts before binary CIDs
    return w.bytes(cid)
  }
  if (Array.isArray(v)) {
    w.head(4, v.length)
    for (const item of v) write(w, item)
    return
  }
  const entries = Object.entries(v).map(([k, val]) => [utf8.encode(k), val] as const)
  entries.sort((a, b) => keyOrder(a[0], b[0]))
  w.head(5, entries.length)
  for (const [k, val] of entries) {
    w.head(3, k.length)
    w.bytes(k)
    write(w, val)
  }
}

export function encode(v: Encodable): Uint8Array {
  const w = new Writer()
  write(w, v)
  return w.buf.slice(0, w.len)
}

/** Decodes the subset above; anything else (floats, negative numbers, other tags) is Corrupt. */
export function decode(bytes: Uint8Array): Decoded {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text = new TextDecoder('utf-8', { fatal: true })
  let at = 0
  const need = (n: number) => {
    if (at + n > bytes.length) throw new Corrupt('DAG-CBOR block ends early')
  }
  const arg = (info: number): number => {
    if (info < 24) return info
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
    if (!size) throw new Corrupt('DAG-CBOR block has an indefinite or reserved length')
    need(size)
    const n = size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at) : size === 4 ? view.getUint32(at) : Number(view.getBigUint64(at))
    at += size
    if (!Number.isSafeInteger(n)) throw new Corrupt('DAG-CBOR integer out of range')
    return n
  }
  const item = (depth: number): Decoded => {
    if (depth > 64) throw new Corrupt('DAG-CBOR block nests too deep')
    need(1)
    const first = bytes[at++]
    const major = first >> 5
    const n = arg(first & 31)
    switch (major) {
      case 0:
        return n
      case 2:
      case 3: {
        need(n)
        const b = bytes.subarray(at, (at += n))
        return major === 2 ? b.slice() : text.decode(b)
      }
      case 4:
        return Array.from({ length: n }, () => item(depth + 1))
      case 5: {
        const out: Record<string, Decoded> = {}
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1)
          if (typeof k !== 'string') throw new Corrupt('DAG-CBOR map key is not text')
          // Duplicates are not DAG-CBOR; __proto__ would swap the decoded object's prototype.
          if (Object.hasOwn(out, k) || k === '__proto__') throw new Corrupt(`DAG-CBOR map has a duplicate or reserved key "${k}"`)
          out[k] = item(depth + 1)
        }
        return out
      }
      case 6: {
        const b = n === 42 ? item(depth + 1) : undefined
        if (!(b instanceof Uint8Array) || b[0] !== 0) throw new Corrupt('DAG-CBOR block has a tag other than a CID link')
        try {
          return cidText(b.subarray(1))
        } catch {
          throw new Corrupt('DAG-CBOR block has a malformed CID link')
        }
      }
      default:
        throw new Corrupt('DAG-CBOR block holds a value file snapshots never use')
    }
  }
  const v = item(0)
  if (at !== bytes.length) throw new Corrupt('DAG-CBOR block has trailing bytes')
  return v
}
