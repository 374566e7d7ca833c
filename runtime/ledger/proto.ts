// /leither/coin/1.0.0: asking notaries to co-sign a block, and handing final blocks (with their
// co-signatures) to the other nodes. Peers are known by node id from their libp2p key.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { keyId } from '../identity/index.ts'
import { bytes, int, list, object, optional, request, serve, str, type offenseLog, type ProtocolSpec } from '../net/wire.ts'
import { BLOCK_MAX_BYTES, type Block, type SignedBlock } from './block.ts'
import type { Cosig } from './notary.ts'

/** A block with the co-signatures that made it final. */
export interface FinalBlock {
  block: SignedBlock
  cosigs: Cosig[]
}

export interface CoinRequest {
  /** cosign | cosigns | final | chain | vote | revote */
  op: string
  block?: SignedBlock
  /** chain: whose blocks, from which height on (at most CHAIN_PAGE). */
  account?: string
  from?: number
  /** cosign: final blocks the notary may lack (the account's head, a receive's send), each with co-signatures. */
  deps?: FinalBlock[]
  /** final: the co-signatures of `block`. */
  cosigs?: Cosig[]
  /** vote: after which predecessor of `account` (empty for the open block), in which round; revote: the round of `proof`. */
  prev?: Uint8Array
  round?: number
  /** revote: the stall proof, the round's votes (blocks, each with its votes). */
  proof?: FinalBlock[]
  /** cosigns: several blocks to co-sign at once, each with its deps (answered in order). */
  items?: { block: SignedBlock; deps?: FinalBlock[] }[]
}

/** Blocks in one cosigns request. */
export const COSIGN_BATCH = 16

const MAX_NOTARIES = 64
/** Final blocks per chain answer. */
export const CHAIN_PAGE = 64
const signedBlock = object({ body: bytes(BLOCK_MAX_BYTES), sig: bytes(64) })
const cosig = object({ notary: str(27), sig: bytes(64), key: optional(bytes(32)), round: optional(int) })
const final = object({ block: signedBlock, cosigs: list(cosig, MAX_NOTARIES) })
/** Checks the shape of a final block from the wire (gossip), throwing WireError when it does not fit. */
export const finalBlockOf = (v: unknown): FinalBlock => final(v) as FinalBlock

export interface CoinResponse {
  sig?: Uint8Array
  ok?: boolean
  blocks?: FinalBlock[]
  /** cosigns: per block, its co-signature or why it was refused. */
  answers?: { sig?: Uint8Array; error?: string }[]
}

export const COIN_PROTOCOL: ProtocolSpec<CoinRequest, CoinResponse> = {
  id: '/leither/coin/1.0.0',
  maxBytes: CHAIN_PAGE * (BLOCK_MAX_BYTES + 64 + MAX_NOTARIES * 128),
  request: object({
    op: str(8),
    block: optional(signedBlock),
    deps: optional(list(final, 2)),
    cosigs: optional(list(cosig, MAX_NOTARIES)),
    account: optional(str(27)),
    from: optional(int),
    prev: optional(bytes(32)),
    round: optional(int),
    proof: optional(list(final, MAX_NOTARIES)),
    items: optional(list(object({ block: signedBlock, deps: optional(list(final, 2)) }), COSIGN_BATCH)),
  }),
  response: object({
    sig: optional(bytes(64)),
    ok: optional((v) => v === true),
    blocks: optional(list(final, CHAIN_PAGE)),
    answers: optional(list(object({ sig: optional(bytes(64)), error: optional(str(500)) }), COSIGN_BATCH)),
  }),
  timeoutMs: 10_000,
}

export interface CoinHandlers {
  /** Co-signs `block` (after taking `deps` in); throws a reason to refuse. */
  cosign(block: SignedBlock, deps: FinalBlock[], peer: PeerId): Uint8Array | Promise<Uint8Array>
  /** Takes in a final block from another node; throws when it does not hold. */
  final(f: FinalBlock, peer: PeerId): void | Promise<void>
  /** Final blocks of an account from a height on, with their co-signatures. */
  chain(account: string, from: number): FinalBlock[]
  /** This notary's vote of a round after a predecessor (none or one). */
  vote(account: string, prev: Uint8Array, round: number): FinalBlock[]
  /** This notary's vote in the next round, for a stall proof of `round`; throws a reason to refuse. */
  revote(proof: FinalBlock[], round: number): FinalBlock[]
}

export function serveCoin(libp2p: Libp2p, h: CoinHandlers, offense: ReturnType<typeof offenseLog>) {
  return serve(
    libp2p,
    COIN_PROTOCOL,
    async (req, peer) => {
      if (req.op === 'chain' && req.account !== undefined) return { blocks: h.chain(req.account, Math.max(0, req.from ?? 0)) }
      if (req.op === 'vote' && req.account !== undefined && req.prev && req.round !== undefined) return { blocks: h.vote(req.account, req.prev, req.round) }
      if (req.op === 'revote' && req.proof && req.round !== undefined) return { blocks: h.revote(req.proof, req.round) }
      if (req.op === 'cosigns' && req.items) {
        const answers: { sig?: Uint8Array; error?: string }[] = []
        for (const it of req.items) {
          try {
            answers.push({ sig: await h.cosign(it.block, it.deps ?? [], peer) })
          } catch (err) {
            answers.push({ error: String((err as Error).message).slice(0, 500) })
          }
        }
        return { answers }
      }
      if (!req.block) throw new Error(`${req.op} needs a block`)
      if (req.op === 'cosign') return { sig: await h.cosign(req.block, req.deps ?? [], peer) }
      if (req.op === 'final') {
        await h.final({ block: req.block, cosigs: req.cosigs ?? [] }, peer)
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

export async function fetchChain(libp2p: Libp2p, peer: PeerId, account: string, from: number): Promise<FinalBlock[]> {
  return (await request(libp2p, peer, COIN_PROTOCOL, { op: 'chain', account, from })).blocks ?? []
}

export async function askVote(libp2p: Libp2p, peer: PeerId, account: string, prev: Uint8Array, round: number): Promise<FinalBlock[]> {
  return (await request(libp2p, peer, COIN_PROTOCOL, { op: 'vote', account, prev, round })).blocks ?? []
}

export async function askRevote(libp2p: Libp2p, peer: PeerId, proof: FinalBlock[], round: number): Promise<FinalBlock[]> {
  return (await request(libp2p, peer, COIN_PROTOCOL, { op: 'revote', proof, round })).blocks ?? []
}

/** Asks a notary to co-sign several blocks in one request; per block its co-signature or the refusal. */
export async function askCosigns(libp2p: Libp2p, peer: PeerId, items: { b: Block; deps: FinalBlock[] }[]): Promise<{ sig?: Uint8Array; error?: string }[]> {
  const res = await request(libp2p, peer, COIN_PROTOCOL, { op: 'cosigns', items: items.map((i) => ({ block: { body: i.b.body, sig: i.b.sig }, deps: i.deps })) })
  if (res.answers?.length !== items.length) throw new Error('the answer does not match the blocks asked')
  return res.answers
}
