// /leither/mimei/1.0.0: signed version records on request (the newest, or a given version), and
// database deltas: the keys changed since a version, so a replica need not fetch a whole snapshot.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { encodeRecord, decodeRecord, type VersionRecord } from './records.ts'
import { anyValue, bool, bytes, call, int, list, object, optional, request, serve, str, type offenseLog, type ProtocolSpec } from './wire.ts'

export interface Delta {
  records: unknown[][]
  deleted: string[]
}

export const MIMEI_PROTOCOL: ProtocolSpec<{ mid: string; ver?: number; since?: number }, { record?: Uint8Array; records?: unknown[]; deleted?: string[]; none?: boolean }> = {
  id: '/leither/mimei/1.0.0',
  maxBytes: 2 * 1024 * 1024,
  request: object({ mid: str(64), ver: optional(int), since: optional(int) }),
  response: object({
    record: optional(bytes(12 * 1024)),
    records: optional(list(anyValue, 1_000_000)),
    deleted: optional(list(str(4096), 1_000_000)),
    none: optional(bool),
  }),
  timeoutMs: 30_000,
}

export function serveRecords(
  libp2p: Libp2p,
  recordFor: (mid: string, ver?: number) => VersionRecord | undefined,
  deltaFor: (mid: string, ver: number, since: number) => Iterable<Delta> | undefined,
  offense: ReturnType<typeof offenseLog>,
) {
  return serve(
    libp2p,
    MIMEI_PROTOCOL,
    async function* (req) {
      if (req.since !== undefined && req.ver !== undefined) {
        const delta = deltaFor(req.mid, req.ver, req.since)
        if (!delta) {
          yield { none: true }
          return
        }
        for (const part of delta) yield { records: part.records, deleted: part.deleted }
        return
      }
      const r = recordFor(req.mid, req.ver)
      yield r ? { record: encodeRecord(r) } : {}
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

/**
 * Asks one peer for the changes from the version with author sequence `since` to version `ver`;
 * undefined when it cannot give them (its data has moved on since). The result is checked by
 * the caller against the version's signed CID before anything of it is kept.
 */
export async function fetchDelta(libp2p: Libp2p, peer: PeerId, mid: string, ver: number, since: number, signal?: AbortSignal): Promise<Delta | undefined> {
  const delta: Delta = { records: [], deleted: [] }
  for await (const part of call(libp2p, peer, MIMEI_PROTOCOL, { mid, ver, since }, { signal })) {
    if (part.none) return undefined
    for (const r of part.records ?? []) {
      if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || typeof r[1] !== 'number') return undefined
      delta.records.push(r)
    }
    delta.deleted.push(...(part.deleted ?? []))
  }
  return delta
}
