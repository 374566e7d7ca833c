// /leither/coin/1.0.0: asking notaries to co-sign a block, and handing final blocks (with their
// co-signatures) to the other nodes. Peers are known by node id from their libp2p key.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { keyId } from '../identity/index.ts'
import { bytes, list, object, optional, request, serve, str, type offenseLog, type ProtocolSpec } from '../net/wire.ts'
import { BLOCK_MAX_BYTES, type Block, type SignedBlock } from './block.ts'
import type { Cosig } from './notary.ts'

/** A block with the co-signatures that made it final. */
export interface FinalBlock {
  block: SignedBlock
  cosigs: Cosig[]
}

export interface CoinRequest {
  op: string
  block: SignedBlock
  /** cosign: final blocks the notary may lack (the account's head, a receive's send), each with co-signatures. */
  deps?: FinalBlock[]
  /** final: the co-signatures of `block`. */
  cosigs?: Cosig[]
}

const MAX_NOTARIES = 64
const signedBlock = object({ body: bytes(BLOCK_MAX_BYTES), sig: bytes(64) })
const cosig = object({ notary: str(27), sig: bytes(64) })
const final = object({ block: signedBlock, cosigs: list(cosig, MAX_NOTARIES) })

export const COIN_PROTOCOL: ProtocolSpec<CoinRequest, { sig?: Uint8Array; ok?: boolean }> = {
  id: '/leither/coin/1.0.0',
  maxBytes: 4 * (BLOCK_MAX_BYTES + 64) + 4 * MAX_NOTARIES * 128,
  request: object({ op: str(8), block: signedBlock, deps: optional(list(final, 2)), cosigs: optional(list(cosig, MAX_NOTARIES)) }),
  response: object({ sig: optional(bytes(64)), ok: optional((v) => v === true) }),
  timeoutMs: 10_000,
}

export interface CoinHandlers {
  /** Co-signs `block` (after taking `deps` in); throws a reason to refuse. */
  cosign(block: SignedBlock, deps: FinalBlock[]): Uint8Array
  /** Takes in a final block from another node; throws when it does not hold. */
  final(f: FinalBlock): void
}

export function serveCoin(libp2p: Libp2p, h: CoinHandlers, offense: ReturnType<typeof offenseLog>) {
  return serve(
    libp2p,
    COIN_PROTOCOL,
    (req) => {
      if (req.op === 'cosign') return { sig: h.cosign(req.block, req.deps ?? []) }
      if (req.op === 'final') {
        h.final({ block: req.block, cosigs: req.cosigs ?? [] })
        return { ok: true }
      }
      throw new Error(`unknown op ${req.op}`)
    },
    offense,
  )
}

/** Connected peers by node id (the key id of their libp2p key), with their public keys. */
export function peersByNodeId(libp2p: Libp2p): Map<string, { peer: PeerId; publicKey: Uint8Array }> {
  const out = new Map<string, { peer: PeerId; publicKey: Uint8Array }>()
  for (const c of libp2p.getConnections()) {
    if (c.status !== 'open') continue
    const raw = (c.remotePeer as { publicKey?: { raw?: Uint8Array } }).publicKey?.raw
    if (raw?.length === 32) out.set(keyId(raw), { peer: c.remotePeer, publicKey: raw })
  }
  return out
}

export async function askCosign(libp2p: Libp2p, peer: PeerId, b: Block, deps: FinalBlock[]): Promise<Uint8Array> {
  const res = await request(libp2p, peer, COIN_PROTOCOL, { op: 'cosign', block: { body: b.body, sig: b.sig }, deps })
  if (!res.sig) throw new Error('no co-signature in the answer')
  return res.sig
}

export async function sendFinal(libp2p: Libp2p, peer: PeerId, f: FinalBlock): Promise<void> {
  await request(libp2p, peer, COIN_PROTOCOL, { op: 'final', block: f.block, cosigs: f.cosigs })
}
