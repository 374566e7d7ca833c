// Traffic meters per peer: bytes served and received, the free allowance that refills over time,
// the debt past it, payments credited; kept in SQLite (migration 16), written behind in batches.
import type { Database } from 'bun:sqlite'

/** Costs are kept in µ毫 (1/1000 毫): bytes × price in 毫 per KB of 1000 bytes, exactly. */
export const MICRO = 1000n

export interface TrafficPrices {
  /** 毫 per KB served on the block and mimei protocols. */
  price: number
  /** 毫 per KB forwarded as a circuit relay. */
  relayPrice: number
  /** Free 毫 per peer, and how fast (毫 per second) it refills. */
  allowance: number
  refill: number
  /** Debt in 毫 at which a peer is asked to settle; cut off past 1.25 times it. */
  payThreshold: number
}

export type TrafficState = 'ok' | 'asked' | 'cut off'

/** One peer's meter as stored; costs in µ毫, bytes as counts. */
export interface MeterRow {
  peer: string
  served: number
  relayed: number
  received: number
  /** Bytes the peer forwarded to this node as a circuit relay (apart from `received`). */
  receivedRelayed: number
  charged: bigint
  credited: bigint
  allowance: bigint
  refilled: number
  paid: bigint
  refused: string
}

/** The disconnect threshold in 毫: the payment threshold × 1.25. */
export const disconnectAt = (p: TrafficPrices): bigint => (BigInt(p.payThreshold) * 5n) / 4n

/** Debt in whole 毫 (rounded up: a part of a 毫 owed counts as owed). */
export const debtOf = (m: MeterRow): bigint => {
  const d = m.charged - m.credited
  return d <= 0n ? 0n : (d + MICRO - 1n) / MICRO
}

export function stateOf(m: MeterRow, p: TrafficPrices): TrafficState {
  const d = debtOf(m)
  return d > disconnectAt(p) ? 'cut off' : d >= BigInt(p.payThreshold) ? 'asked' : 'ok'
}

export interface TrafficMeters {
  get(peer: string): MeterRow
  /** A copy of the peer's meter with its allowance refilled to now; a peer never metered is not added. */
  peek(peer: string, now?: number): MeterRow
  all(): MeterRow[]
  /** Counts bytes served to `peer` and charges them (relay: at the relay price); returns the meter. */
  served(peer: string, bytes: number, relay: boolean, now?: number): MeterRow
  /** Bytes received from `peer`; `relay`: forwarded by it as a circuit relay. */
  received(peer: string, bytes: number, relay?: boolean): void
  /** A final payment from the peer: µ毫 off its debt. */
  credit(peer: string, milli: bigint): MeterRow
  /** 毫 this node paid the peer. */
  paid(peer: string, milli: bigint): void
  refused(peer: string, why: string): void
  /** Writes every changed meter (one transaction). */
  flush(): void
}

const fresh = (peer: string, p: TrafficPrices, now: number): MeterRow => ({
  peer,
  served: 0,
  relayed: 0,
  received: 0,
  receivedRelayed: 0,
  charged: 0n,
  credited: 0n,
  allowance: BigInt(p.allowance) * MICRO,
  refilled: now,
  paid: 0n,
  refused: '',
})

export function trafficMeters(db: () => Database, prices: () => TrafficPrices): TrafficMeters {
  const rows = new Map<string, MeterRow>()
  const dirty = new Set<string>()
  const load = (peer: string, now = Date.now()): MeterRow => {
    let m = rows.get(peer)
    if (m) return m
    const r = db().query('SELECT * FROM traffic_meters WHERE peer = ?').get(peer) as Record<string, number | string | bigint> | null
    m = r
      ? {
          peer,
          served: Number(r.served),
          relayed: Number(r.relayed),
          received: Number(r.received),
          receivedRelayed: Number(r.received_relayed),
          charged: BigInt(r.charged!),
          credited: BigInt(r.credited!),
          allowance: BigInt(r.allowance!),
          refilled: Number(r.refilled),
          paid: BigInt(r.paid!),
          refused: String(r.refused),
        }
      : fresh(peer, prices(), now)
    rows.set(peer, m)
    return m
  }
  const touch = (m: MeterRow) => (dirty.add(m.peer), m)

  /** Tops the allowance up for the time since it was last refilled. */
  const refill = (m: MeterRow, p: TrafficPrices, now: number) => {
    const cap = BigInt(p.allowance) * MICRO
    if (now > m.refilled && m.allowance < cap) m.allowance = minBig(cap, m.allowance + (BigInt(p.refill) * MICRO * BigInt(now - m.refilled)) / 1000n)
    if (now > m.refilled) m.refilled = now
    if (m.allowance > cap) m.allowance = cap
  }

  return {
    get: (peer) => load(peer),
    peek(peer, now = Date.now()) {
      const m = { ...(rows.get(peer) ?? (db().query('SELECT 1 FROM traffic_meters WHERE peer = ?').get(peer) ? load(peer) : fresh(peer, prices(), now))) }
      refill(m, prices(), now)
      return m
    },
    all() {
      const peers = (db().query('SELECT peer FROM traffic_meters').all() as { peer: string }[]).map((r) => r.peer)
      for (const p of rows.keys()) if (!peers.includes(p)) peers.push(p)
      return peers.sort().map(load)
    },
    served(peer, bytes, relay, now = Date.now()) {
      const p = prices()
      const m = load(peer, now)
      refill(m, p, now)
      m.served += bytes
      if (relay) m.relayed += bytes
      let cost = BigInt(bytes) * BigInt(relay ? p.relayPrice : p.price)
      const free = minBig(cost, m.allowance)
      m.allowance -= free
      cost -= free
      m.charged += cost
      return touch(m)
    },
    received(peer, bytes, relay = false) {
      const m = touch(load(peer))
      if (relay) m.receivedRelayed += bytes
      else m.received += bytes
    },
    credit(peer, milli) {
      const m = load(peer)
      m.credited += milli
      m.refused = ''
      return touch(m)
    },
    paid(peer, milli) {
      touch(load(peer)).paid += milli
    },
    refused(peer, why) {
      touch(load(peer)).refused = why.slice(0, 300)
    },
    flush() {
      if (!dirty.size) return
      const put = db().query(`INSERT OR REPLACE INTO traffic_meters (peer, served, relayed, received, received_relayed, charged, credited, allowance, refilled, paid, refused)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      db().transaction(() => {
        for (const peer of dirty) {
          const m = rows.get(peer)!
          put.run(m.peer, m.served, m.relayed, m.received, m.receivedRelayed, m.charged, m.credited, m.allowance, m.refilled, m.paid, m.refused)
        }
      })()
      dirty.clear()
      // Meters written are read again when needed: the cache keeps at most 10,000 peers.
      if (rows.size > 10_000) rows.clear()
    },
  }
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b)
