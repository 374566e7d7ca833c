// /leither/traffic/1.0.0: a creditor asks a debtor to settle its traffic debt; the debtor answers
// once its payment (a ledger transfer from its node account) is final, or refuses with a reason.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { int, object, optional, request, serve, str, type offenseLog, type ProtocolSpec } from '../net/wire.ts'

export interface SettleRequest {
  /** 毫 the creditor counts as owed. */
  owed: number
  /** Bytes the creditor counts as served to the debtor, in all (for the debtor's log). */
  served: number
}

export interface SettleResponse {
  /** 毫 paid by this answer's transfer (0: nothing was due by the debtor's own count). */
  paid: number
  /** The send block's hash (hex) when something was paid. */
  block?: string
}

export const TRAFFIC_PROTOCOL: ProtocolSpec<SettleRequest, SettleResponse> = {
  id: '/leither/traffic/1.0.0',
  maxBytes: 1024,
  request: object({ owed: int, served: int }),
  response: object({ paid: int, block: optional(str(64)) }),
  // A transfer waits for the notaries' quorum.
  timeoutMs: 30_000,
}

export function serveSettle(libp2p: Libp2p, settle: (req: SettleRequest, peer: PeerId) => Promise<SettleResponse>, offense: ReturnType<typeof offenseLog>) {
  return serve(
    libp2p,
    TRAFFIC_PROTOCOL,
    (req, peer) => {
      if (req.owed < 0 || req.served < 0) throw new Error('owed and served are counts >= 0')
      return settle(req, peer)
    },
    offense,
  )
}

export function askSettle(libp2p: Libp2p, peer: PeerId, req: SettleRequest, signal?: AbortSignal): Promise<SettleResponse> {
  return request(libp2p, peer, TRAFFIC_PROTOCOL, req, { signal })
}
