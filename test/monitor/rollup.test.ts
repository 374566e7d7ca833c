// The monitor's table with an injected clock: hours roll up into UTC days across midnight, p95 from
// the histograms, retention, and what was counted surviving a stop and a new start on the same database.
import { describe, expect, test } from 'bun:test'
import { DEFAULT_CONFIG, type Config } from '../../runtime/config/index.ts'
import { createLogger } from '../../runtime/log/index.ts'
import { monitor } from '../../runtime/monitor/index.ts'
import { bucketOf, bucketUpperMs, decodeHistInto, encodeHist, BUCKETS } from '../../runtime/monitor/histogram.ts'
import { parseStatsOptions } from '../../runtime/monitor/query.ts'
import { store } from '../../runtime/store/index.ts'
import { tempDir } from '../helpers/node.ts'

const quiet = createLogger({ level: 'error', stderr: false })
const H = 3_600_000
const DAY = 24 * H

/** A store and a monitor on it whose clock the test moves. */
async function setup(dir: string, config: Partial<Config> = {}) {
  const clock = { now: Date.parse('2026-03-09T23:30:00Z') }
  const base = { dataDir: dir, config: { ...DEFAULT_CONFIG, ...config }, log: quiet }
  const db = store()(base)
  await db.start()
  const mon = monitor()({ ...base, store: db, clock: () => clock.now })
  mon.start()
  return {
    clock,
    mon,
    db,
    async [Symbol.asyncDispose]() {
      mon.stop()
      await db.stop()
    },
  }
}

const q = (opts: Record<string, unknown>) => parseStatsOptions(opts, Date.parse('2026-03-11T00:00:00Z')).query

describe('monitor table', () => {
  test('calls before and after midnight land in their hours and their UTC days', async () => {
    using dir = tempDir()
    await using t = await setup(dir)
    for (let i = 0; i < 5; i++) t.mon.syscall('Echo', 2, false)
    t.mon.syscall('Echo', 40, true)
    t.mon.http('GET', '/mm/*', 3, false)
    t.mon.flush()
    // 23:59:59.999 still counts for the 9th; the next call, past midnight, for the 10th. (The monitor
    // reads its clock at each hour's end and at every flush, not per call: a flush stands for both.)
    t.clock.now = Date.parse('2026-03-09T23:59:59.999Z')
    t.mon.flush()
    t.mon.syscall('Echo', 1, false)
    t.clock.now = Date.parse('2026-03-10T00:00:00.000Z')
    t.mon.flush()
    t.mon.syscall('Echo', 7, false)
    t.clock.now = Date.parse('2026-03-10T01:15:00Z')
    t.mon.flush()
    t.mon.syscall('Echo', 9, false)
    t.mon.http('get', '/mm/*', 5, true) // an unknown method is OTHER
    t.mon.http('GET', '/mm/*', 4, false)

    const days = t.mon.query(q({ from: '2026-03-09', to: '2026-03-11', granularity: 'day', kind: 'syscall' }))
    expect(days).toEqual([
      { node: '', kind: 'syscall' as const, name: 'Echo', start: Date.parse('2026-03-09'), count: 7, errors: 1, avgMs: 51 / 7, maxMs: 40, p95Ms: 40 },
      { node: '', kind: 'syscall' as const, name: 'Echo', start: Date.parse('2026-03-10'), count: 2, errors: 0, avgMs: 8, maxMs: 9, p95Ms: 9 },
    ].map((r) => ({ ...r, avgMs: Math.round(r.avgMs * 1000) / 1000 })))

    const hours = t.mon.query(q({ from: '2026-03-09T23:00:00Z', to: '2026-03-10T02:00:00Z', granularity: 'hour', name: 'Echo' }))
    expect(hours.map((r) => [new Date(r.start!).toISOString(), r.count, r.maxMs])).toEqual([
      ['2026-03-09T23:00:00.000Z', 7, 40],
      ['2026-03-10T00:00:00.000Z', 1, 7],
      ['2026-03-10T01:00:00.000Z', 1, 9],
    ])

    // A whole day summed: read from its day row; HTTP rows by method and route template.
    const day10 = t.mon.query(q({ day: '2026-03-10' }))
    expect(day10.map((r) => [r.kind, r.name, r.count, r.errors])).toEqual([
      ['syscall', 'Echo', 2, 0],
      ['http', 'GET /mm/*', 1, 0],
      ['http', 'OTHER /mm/*', 1, 1],
    ])
    // Two days summed equal the hours summed.
    const total = t.mon.query(q({ from: '2026-03-09', to: '2026-03-11', name: 'Echo' }))
    expect(total.map((r) => [r.count, r.errors, r.maxMs])).toEqual([[9, 1, 40]])
    const byHours = t.mon.query(q({ from: '2026-03-09T00:00:01Z', to: '2026-03-10T23:59:59Z', name: 'Echo' }))
    expect(byHours.map((r) => [r.count, r.errors, r.maxMs])).toEqual([[9, 1, 40]])
  })

  test('p95 comes from the histogram: the bucket holding the 95th percentile, never above the maximum', async () => {
    using dir = tempDir()
    await using t = await setup(dir)
    // 95 calls of 10 ms and 5 of 1000 ms: the 95th percentile is 10 ms, read as its bucket's upper edge (≤ 12.5 % above).
    for (let i = 0; i < 95; i++) t.mon.syscall('Slow', 10, false)
    for (let i = 0; i < 5; i++) t.mon.syscall('Slow', 1000, false)
    const [row] = t.mon.query(q({ from: '2026-03-09', to: '2026-03-10' }))
    expect(row).toMatchObject({ name: 'Slow', count: 100, avgMs: 59.5, maxMs: 1000 })
    expect(row!.p95Ms).toBeGreaterThanOrEqual(10)
    expect(row!.p95Ms).toBeLessThanOrEqual(11.25)
    expect(row!.p95Ms).toBe(Math.round(bucketUpperMs(bucketOf(10)) * 1000) / 1000)
    // A p95 whose bucket reaches past the largest call is the largest call.
    t.mon.syscall('Few', 95, false)
    expect(t.mon.query(q({ day: '2026-03-09', name: 'Few' }))[0]!.p95Ms).toBe(95)
  })

  test('histograms: every latency has a bucket whose upper edge holds it; stored form round-trips', () => {
    for (const ms of [0, 0.005, 2 ** -7, 0.01, 0.0101, 0.5, 1, 1.124, 1.125, 3.3, 250, 9999, 2 ** 20 - 1, 1e9, -1, NaN]) {
      const i = bucketOf(ms)
      expect(i).toBeGreaterThanOrEqual(0)
      expect(i).toBeLessThan(BUCKETS)
      if (!(ms >= 0)) continue
      expect(ms).toBeLessThan(bucketUpperMs(i))
      if (i > 0) expect(ms).toBeGreaterThanOrEqual(bucketUpperMs(i - 1))
      if (i > 0 && i < BUCKETS - 1) expect(bucketUpperMs(i) / bucketUpperMs(i - 1)).toBeLessThanOrEqual(1.125 + 1e-12)
    }
    expect(bucketOf(1.124)).toBe(bucketOf(1))
    expect(bucketOf(1.125)).toBe(bucketOf(1) + 1)
    expect(bucketOf(1e9)).toBe(BUCKETS - 1)
    const h = new Uint32Array(BUCKETS)
    h[0] = 3
    h[17] = 70000
    h[BUCKETS - 1] = 1
    const back = new Uint32Array(BUCKETS)
    decodeHistInto(encodeHist(h), back)
    expect([...back]).toEqual([...h])
    expect(encodeHist(h).byteLength).toBe(24)
  })

  test('what was counted survives a stop and a new start; old rows go after their retention', async () => {
    using dir = tempDir()
    {
      await using t = await setup(dir)
      t.mon.syscall('Login', 5, false)
      t.mon.syscall('Login', 6, true)
      // No flush here: stopping writes what is left.
    }
    {
      await using t = await setup(dir, { monitorHourlyDays: 2, monitorRetentionDays: 10 })
      expect(t.mon.query(q({ day: '2026-03-09' })).map((r) => [r.name, r.count, r.errors])).toEqual([['Login', 2, 1]])
      // Three days on, the hourly rows are gone, the day stays; eleven days on, the day too.
      t.clock.now += 3 * DAY
      t.mon.stop()
      t.mon.start()
      expect(t.mon.query(q({ from: '2026-03-09T00:00:01Z', to: '2026-03-10' }))).toEqual([])
      expect(t.mon.query(q({ day: '2026-03-09' })).map((r) => r.count)).toEqual([2])
      t.clock.now += 8 * DAY
      t.mon.stop()
      t.mon.start()
      expect(t.mon.query(q({ day: '2026-03-09' }))).toEqual([])
    }
  })

  test('recording off counts nothing', async () => {
    using dir = tempDir()
    await using t = await setup(dir, { monitor: false })
    t.mon.syscall('Echo', 1, false)
    t.mon.http('GET', '/', 1, false)
    expect(t.mon.query(q({ day: '2026-03-09' }))).toEqual([])
    t.mon.recording = true
    t.mon.syscall('Echo', 1, false)
    expect(t.mon.query(q({ day: '2026-03-09' })).map((r) => r.count)).toEqual([1])
  })

  test('options are checked', () => {
    const bad = [{ day: '9.3.2026' }, { from: 'yesterday' }, { from: 10, to: 5 }, { sort: 'speed' }, { granularity: 'minute' }, { node: 'ftp://x' }, { node: [] }, { kind: 'tcp' }]
    for (const opts of bad) expect(() => parseStatsOptions(opts, Date.now())).toThrow(/^MonitorStats: /)
    const { query, nodes } = parseStatsOptions({ node: ['', 'http://10.0.0.2:4800/', 'self'] }, 1_000_000_000_000)
    expect(nodes).toEqual(['', 'http://10.0.0.2:4800'])
    expect(query).toEqual({ from: 1_000_000_000_000 - DAY, to: 1_000_000_000_000, granularity: 'total', sort: 'count' })
  })
})
