// The traffic meter on a real SQLite database (migrations 16 and 18): prices, the allowance and its refill
// over time (a given clock), the states at the thresholds, credits, and rows read back after a flush.
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { MIGRATIONS } from '../../runtime/store/migrations.ts'
import { debtOf, disconnectAt, stateOf, trafficMeters, type TrafficPrices } from '../../runtime/ledger/traffic-meter.ts'

function setup(p: TrafficPrices) {
  const db = new Database(':memory:')
  for (const m of MIGRATIONS.filter((m) => m.version === 16 || m.version === 18)) m.up(db)
  return { db, meters: trafficMeters(() => db, () => p) }
}

test('bytes cost the price past the allowance; the allowance refills at its rate up to its size; states at the thresholds', () => {
  const p: TrafficPrices = { price: 1, relayPrice: 4, allowance: 100, refill: 10, payThreshold: 1000 }
  const { meters } = setup(p)
  const t0 = 1_000_000
  // A new peer starts with the whole allowance (stamped when first metered).
  let m = meters.served('peer', 60_000, false, t0)
  expect([m.allowance, debtOf(m)]).toEqual([40_000n, 0n])
  m = meters.served('peer', 60_000, false, t0)
  expect([m.allowance, debtOf(m)]).toEqual([0n, 20n])
  // Five seconds refill 50 毫; a KB and a half relayed at 4 毫 per KB costs 6 毫.
  m = meters.served('peer', 1500, true, t0 + 5000)
  expect([m.allowance, debtOf(m), m.relayed, m.served]).toEqual([44_000n, 20n, 1500, 121_500])
  // The refill stops at the allowance's size.
  m = meters.served('peer', 0, false, t0 + 3_600_000)
  expect(m.allowance).toBe(100_000n)
  // A part of a 毫 owed counts as a whole one.
  m = meters.served('peer', 100_001, false, t0 + 3_600_000)
  expect(debtOf(m)).toBe(21n)
  expect(stateOf(m, p)).toBe('ok')
  m = meters.served('peer', 979_000, false, t0 + 3_600_000)
  expect([debtOf(m), stateOf(m, p)]).toEqual([1000n, 'asked'])
  expect(disconnectAt(p)).toBe(1250n)
  m = meters.served('peer', 250_000, false, t0 + 3_600_000)
  expect([debtOf(m), stateOf(m, p)]).toEqual([1250n, 'asked'])
  m = meters.served('peer', 1000, false, t0 + 3_600_000)
  expect([debtOf(m), stateOf(m, p)]).toEqual([1251n, 'cut off'])
  // A payment takes it off; more than owed leaves no debt (not a credit to spend).
  m = meters.credit('peer', 1251_000n)
  expect([debtOf(m), stateOf(m, p)]).toEqual([0n, 'ok'])
})

test('meters are written behind and read back', () => {
  const p: TrafficPrices = { price: 2, relayPrice: 2, allowance: 0, refill: 0, payThreshold: 10 }
  const { db, meters } = setup(p)
  meters.served('a', 5000, false)
  meters.received('a', 7000)
  meters.received('a', 300, true)
  meters.paid('a', 3n)
  meters.refused('a', 'no funds')
  expect(db.query('SELECT count(*) AS n FROM traffic_meters').get()).toEqual({ n: 0 })
  meters.flush()
  const again = trafficMeters(() => db, () => p).get('a')
  expect(again).toMatchObject({ served: 5000, received: 7000, receivedRelayed: 300, charged: 10_000n, paid: 3n, refused: 'no funds' })
  expect(debtOf(again)).toBe(10n)
  // Looking at a peer never metered adds no row.
  expect(meters.peek('nobody')).toMatchObject({ served: 0, charged: 0n })
  meters.flush()
  expect(db.query('SELECT peer FROM traffic_meters').all()).toEqual([{ peer: 'a' }])
})
