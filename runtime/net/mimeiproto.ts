// /leither/mimei/1.0.0: signed version records on request (the newest, or a given version), and
// database deltas: the keys changed since a version, so a replica need not fetch a whole snapshot.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { encodeRecord, decodeRecord, type VersionRecord } from './records.ts'
import { meterReceived, meterServed, sizeOf, trafficGate } from './traffic-hook.ts'
import { anyValue, bool, bytes, call, int, list, object, optional, request, serve, str, WireError, type offenseLog, type ProtocolSpec } from './wire.ts'

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
    async function* (req, peer) {
      await trafficGate(libp2p, peer)
      if (req.since !== undefined && req.ver !== undefined) {
        const delta = deltaFor(req.mid, req.ver, req.since)
        if (!delta) {
          yield { none: true }
          return
        }
        for (const part of delta) yield (meterServed(libp2p, peer, sizeOf(part)), { records: part.records, deleted: part.deleted })
        return
      }
      const r = recordFor(req.mid, req.ver)
      const record = r && encodeRecord(r)
      meterServed(libp2p, peer, record?.length ?? 0)
      yield record ? { record } : {}
    },
    offense,
  )
}

/** Asks one peer for a record; the answer is verified (signature, author, id) before use. */
export async function fetchRecord(libp2p: Libp2p, peer: PeerId, mid: string, ver: number | undefined, signal?: AbortSignal): Promise<VersionRecord | undefined> {
  const res = await request(libp2p, peer, MIMEI_PROTOCOL, { mid, ver }, { signal })
  meterReceived(libp2p, peer, res.record?.length ?? 0)
  if (!res.record) return undefined
  const r = decodeRecord(res.record)
  if (r.mid !== mid || (ver !== undefined && r.ver !== ver)) return undefined
  return r
}

/** How much of a delta is collected before it can be checked: bytes on the wire and keys. */
export interface DeltaLimit {
  bytes: number
  keys: number
}

/**
 * The most a delta from version `base` to `target` can honestly be: its changed keys are records
 * of the new snapshot (at most its signed size), its deleted keys names from the old one (at most
 * that size), plus framing. Never more than 256 MiB or a million keys, whatever a record says.
 */
export function deltaLimit(target: { size: number }, base: { size: number }): DeltaLimit {
  return { bytes: Math.min(256 * 1024 * 1024, 2 * (target.size + base.size) + 64 * 1024), keys: 1_000_000 }
}

/**
 * Asks one peer for the changes from the version with author sequence `since` to version `ver`;
 * undefined when it cannot give them (its data has moved on since). The result is checked by
 * the caller against the version's signed CID before anything of it is kept; until then it is
 * held in memory, so a peer that sends more than `limit` is cut off (WireError).
 */
export async function fetchDelta(
  libp2p: Libp2p,
  peer: PeerId,
  mid: string,
  ver: number,
  since: number,
  signal?: AbortSignal,
  limit: DeltaLimit = { bytes: 64 * 1024 * 1024, keys: 1_000_000 },
): Promise<Delta | undefined> {
  const delta: Delta = { records: [], deleted: [] }
  for await (const part of call(libp2p, peer, MIMEI_PROTOCOL, { mid, ver, since }, { signal, maxTotalBytes: limit.bytes })) {
    if (part.none) return undefined
    meterReceived(libp2p, peer, sizeOf(part))
    for (const r of part.records ?? []) {
      if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || typeof r[1] !== 'number') return undefined
      delta.records.push(r)
    }
    delta.deleted.push(...(part.deleted ?? []))
    if (delta.records.length + delta.deleted.length > limit.keys) throw new WireError(`${peer} sent a delta of more than ${limit.keys} keys`)
  }
  return delta
}
