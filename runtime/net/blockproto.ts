// /leither/block/2.0.0: blocks by CID. A request (CBOR) names up to 64 CIDs; the answer is one
// frame per CID in the order asked: a tag byte, then the block's raw bytes (no CBOR around them, so
// neither end copies a block into or out of a message). Only blocks of MiMei this node shares are served.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { NotFound } from '../errors.ts'
import { parseCid } from '../mimei/blocks.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import { meterReceived, meterServed, trafficGate } from './traffic-hook.ts'
import { call, decodeCbor, list, object, serve, str, WireError, type offenseLog, type ProtocolSpec } from './wire.ts'

export const MAX_BLOCKS_PER_REQUEST = 64
const MAX_BLOCK = 4 * 1024 * 1024
const SHA2_256 = 0x12

/** A frame's first byte: the block's bytes follow; this node has no servable block of that CID. Anything else is CBOR (a refusal). */
const TAG_BLOCK = 0x00
const TAG_MISSING = 0x01

/** One answer, for the next CID asked: the block's bytes, in the pieces they arrived in, or missing. */
export type BlockFrame = { parts: Uint8Array[]; size: number } | { missing: true }

export const BLOCK_PROTOCOL: ProtocolSpec<{ cids: string[] }, BlockFrame> = {
  id: '/leither/block/2.0.0',
  maxBytes: MAX_BLOCK + 1024,
  request: object({ cids: list(str(128), MAX_BLOCKS_PER_REQUEST) }),
  response: (v) => v as BlockFrame,
  timeoutMs: 60_000,
  frame: {
    encode: (r) => ('missing' in r ? Uint8Array.of(TAG_MISSING) : new Uint8ArrayList(Uint8Array.of(TAG_BLOCK), ...r.parts)),
    decode(raw) {
      if (!raw.byteLength) throw new WireError('empty block frame')
      const tag = raw.get(0)
      if (tag === TAG_MISSING) {
        if (raw.byteLength !== 1) throw new WireError('a "missing" block frame carries bytes')
        return { missing: true }
      }
      if (tag === TAG_BLOCK) {
        const parts = [...raw.sublist(1)]
        return { parts, size: raw.byteLength - 1 }
      }
      // The server's refusal ({ error }) is CBOR: handed back for call() to raise. Nothing else is.
      let v: unknown
      try {
        v = decodeCbor(raw.subarray())
      } catch {}
      if (v && typeof v === 'object' && typeof (v as { error?: unknown }).error === 'string') return { error: (v as { error: string }).error }
      throw new WireError(`a block frame starts with byte ${tag}, which is no frame of ${BLOCK_PROTOCOL.id}`)
    },
  },
}

export interface BlockServerDeps {
  mimei: MiMeiStore
  /** Numeric ids of MiMei whose versions may be served (published or provided here). */
  sharedIds(): Set<number>
  /** Bytes served per peer, for the traffic meter. */
  onServed?(peer: PeerId, bytes: number): void
}

export function serveBlocks(libp2p: Libp2p, deps: BlockServerDeps, offense: ReturnType<typeof offenseLog>) {
  return serve(
    libp2p,
    BLOCK_PROTOCOL,
    async function* (req, peer): AsyncGenerator<BlockFrame> {
      // Blocks are read off the event loop, the next one while this one is sent.
      const shared = deps.sharedIds()
      const reads = req.cids.map(() => undefined as Promise<Uint8Array | undefined> | undefined)
      const start = (i: number) => {
        if (i < reads.length) reads[i] = readBlock(deps.mimei, req.cids[i], shared)
        reads[i]?.catch(() => {})
      }
      start(0)
      for (let i = 0; i < req.cids.length; i++) {
        for (let j = i + 1; j <= i + READ_AHEAD; j++) if (!reads[j]) start(j)
        await trafficGate(libp2p, peer)
        const data = await reads[i]
        reads[i] = undefined
        if (!data) {
          yield { missing: true }
          continue
        }
        deps.onServed?.(peer, data.length)
        meterServed(libp2p, peer, data.length)
        yield { parts: [data], size: data.length }
      }
    },
    offense,
  )
}

/** Blocks read ahead of the one being sent, per request. */
const READ_AHEAD = 2

/**
 * A servable block's bytes, read on Bun's I/O threads (not hash-checked: the receiver checks every
 * hash, hashing here too would only double the work); undefined when it is not servable here.
 */
async function readBlock(mimei: MiMeiStore, cid: string, shared: ReadonlySet<number>): Promise<Uint8Array | undefined> {
  parseCid(cid)
  const at = mimei.isServable(cid, shared) ? mimei.blocks.where(cid) : undefined
  if (!at) return undefined
  const bytes = await Bun.file(at.path)
    .slice(at.off, at.off + at.size)
    .bytes()
    .catch(() => {
      throw new NotFound(`block ${cid} is not on this node`)
    })
  if (bytes.length !== at.size) throw new NotFound(`block ${cid} is cut short on this node`)
  return bytes
}

/** Whether `parts` hash to `cid` (sha2-256, the only hash this node makes or accepts). */
function hashesTo(cid: string, parts: Uint8Array[]): boolean {
  const mh = parseCid(cid).multihash
  if (mh.code !== SHA2_256 || mh.digest.length !== 32) return false
  const hasher = new Bun.CryptoHasher('sha256')
  for (const p of parts) hasher.update(p)
  const digest = hasher.digest() as Uint8Array
  for (let i = 0; i < 32; i++) if (digest[i] !== mh.digest[i]) return false
  return true
}

/** A block's bytes in one piece (copied only when they arrived in several). */
export function joined(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : new Uint8ArrayList(...parts).subarray()
}

/**
 * Fetches blocks from one peer. Each block's hash is checked before it is returned: a peer that
 * sends other bytes than asked, or more answers than CIDs, is caught here (WireError), and nothing
 * it sent is kept. A block comes in the pieces it arrived in (`parts`), not copied into one.
 */
export async function* fetchBlocks(libp2p: Libp2p, peer: PeerId, cids: string[], signal?: AbortSignal): AsyncGenerator<{ cid: string; parts: Uint8Array[]; size: number }> {
  let i = 0
  for await (const msg of call(libp2p, peer, BLOCK_PROTOCOL, { cids }, { signal })) {
    const cid = cids[i++]
    if (cid === undefined) throw new WireError(`${peer} sent more blocks than the ${cids.length} asked for`)
    if ('missing' in msg) continue
    if (!hashesTo(cid, msg.parts)) throw new WireError(`${peer} sent bytes that do not hash to ${cid}`)
    meterReceived(libp2p, peer, msg.size)
    yield { cid, parts: msg.parts, size: msg.size }
  }
}
