// /leither/block/1.0.0: blocks by CID. A request names up to 64 CIDs; the answer streams one
// message per block (or "missing"). Only blocks of MiMei this node shares are served.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { parseCid, cidOf } from '../mimei/blocks.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import { meterReceived, meterServed, trafficGate } from './traffic-hook.ts'
import { bool, bytes, call, list, object, optional, serve, str, WireError, type offenseLog, type ProtocolSpec } from './wire.ts'

export const MAX_BLOCKS_PER_REQUEST = 64
const MAX_BLOCK = 4 * 1024 * 1024

export const BLOCK_PROTOCOL: ProtocolSpec<{ cids: string[] }, { cid: string; data?: Uint8Array; missing?: boolean }> = {
  id: '/leither/block/1.0.0',
  maxBytes: MAX_BLOCK + 1024,
  request: object({ cids: list(str(128), MAX_BLOCKS_PER_REQUEST) }),
  response: object({ cid: str(128), data: optional(bytes(MAX_BLOCK)), missing: optional(bool) }),
  timeoutMs: 60_000,
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
    async function* (req, peer) {
      for (const cid of req.cids) {
        await trafficGate(libp2p, peer)
        parseCid(cid)
        if (!deps.mimei.isServable(cid, deps.sharedIds())) {
          yield { cid, missing: true }
          continue
        }
        // The receiver checks every hash; hashing here too would only double the work.
        const data = deps.mimei.blocks.get(cid, false)
        deps.onServed?.(peer, data.length)
        meterServed(libp2p, peer, data.length)
        yield { cid, data }
      }
    },
    offense,
  )
}

/**
 * Fetches blocks from one peer. Each block's hash is checked before it is returned: a peer that
 * sends other bytes than asked is caught here (WireError), and nothing it sent is kept.
 */
export async function* fetchBlocks(libp2p: Libp2p, peer: PeerId, cids: string[], signal?: AbortSignal): AsyncGenerator<{ cid: string; data: Uint8Array }> {
  const wanted = new Set(cids)
  for await (const msg of call(libp2p, peer, BLOCK_PROTOCOL, { cids }, { signal })) {
    if (!wanted.has(msg.cid)) throw new WireError(`${peer} sent block ${msg.cid}, which was not asked for`)
    if (msg.missing || !msg.data) continue
    if (cidOf(msg.data, parseCid(msg.cid).code) !== msg.cid) throw new WireError(`${peer} sent bytes that do not hash to ${msg.cid}`)
    meterReceived(libp2p, peer, msg.data.length)
    yield { cid: msg.cid, data: msg.data }
  }
}
