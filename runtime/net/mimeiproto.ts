// /leither/mimei/1.0.0: signed version records on request — the newest, or a given version.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { encodeRecord, decodeRecord, type VersionRecord } from './records.ts'
import { bytes, int, object, optional, request, serve, str, type offenseLog, type ProtocolSpec } from './wire.ts'

export const MIMEI_PROTOCOL: ProtocolSpec<{ mid: string; ver?: number }, { record?: Uint8Array }> = {
  id: '/leither/mimei/1.0.0',
  maxBytes: 16 * 1024,
  request: object({ mid: str(64), ver: optional(int) }),
  response: object({ record: optional(bytes(12 * 1024)) }),
  timeoutMs: 15_000,
}

export function serveRecords(libp2p: Libp2p, recordFor: (mid: string, ver?: number) => VersionRecord | undefined, offense: ReturnType<typeof offenseLog>) {
  return serve(
    libp2p,
    MIMEI_PROTOCOL,
    (req) => {
      const r = recordFor(req.mid, req.ver)
      return r ? { record: encodeRecord(r) } : {}
    },
    offense,
  )
}

/** Asks one peer for a record; the answer is verified (signature, author, id) before use. */
export async function fetchRecord(libp2p: Libp2p, peer: PeerId, mid: string, ver: number | undefined, signal?: AbortSignal): Promise<VersionRecord | undefined> {
  const res = await request(libp2p, peer, MIMEI_PROTOCOL, { mid, ver }, { signal })
  if (!res.record) return undefined
  const r = decodeRecord(res.record)
  if (r.mid !== mid || (ver !== undefined && r.ver !== ver)) return undefined
  return r
}
