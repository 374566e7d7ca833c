// MonitorStats options → a query over the monitor table, and its answer: rows with count, errors, avg, max, p95.
import { InvalidParams } from '../errors.ts'
import type { StatsRow } from '../rpc/browser/types.ts'
import { quantileMs } from './histogram.ts'
import type { Kind } from './recorder.ts'
import { DAY_SEC, HOUR_SEC, sumRows, type MonitorTable, type StoredRow } from './store.ts'

export const GRANULARITIES = ['total', 'hour', 'day'] as const
export const SORTS = ['count', 'avg', 'max', 'p95', 'errors', 'name'] as const
export type Granularity = (typeof GRANULARITIES)[number]
export type SortKey = (typeof SORTS)[number]

export interface StatsQuery {
  /** Unix ms, inclusive; buckets overlapping [from, to) are counted whole. */
  from: number
  to: number
  granularity: Granularity
  sort: SortKey
  kind?: Kind
  name?: string
}

/** One row of MonitorStats: the wire's shape, declared once for the node and the browser. */
export type { StatsRow } from '../rpc/browser/types.ts'

/** Stored rows one query may read: past it the caller is asked to narrow the range or name a row. */
export const MAX_ROWS = 50_000
/** Nodes one MonitorStats may ask. */
export const MAX_NODES = 16
const DAY_MS = DAY_SEC * 1000

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** A decoded option value for an error message: only strings and numbers are quoted (cycles and BigInt cannot be). */
const shown = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v.slice(0, 60)) : typeof v === 'number' ? String(v) : Array.isArray(v) ? 'a list' : typeof v === 'bigint' ? 'a long integer' : `a ${typeof v === 'object' ? 'map' : typeof v}`

/** A time as MonitorStats takes it: unix ms, or an ISO date (YYYY-MM-DD is that UTC midnight). */
export function parseTime(v: unknown, what: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Date.parse(DATE.test(v) ? `${v}T00:00:00Z` : v) : NaN
  if (!Number.isFinite(t)) throw new InvalidParams(`MonitorStats: ${what} must be unix ms or an ISO date like 2026-01-31, got ${shown(v)}`)
  return t
}

function oneOf<T extends string>(v: unknown, list: readonly T[], what: string, fallback: T): T {
  if (v === undefined || v === null) return fallback
  if (!list.includes(v as T)) throw new InvalidParams(`MonitorStats: ${what} must be one of ${list.join(', ')}, got ${shown(v)}`)
  return v as T
}

/** Checks MonitorStats options; without from/to/day the last 24 hours. Returns the query and the nodes asked ('' = this one). */
export function parseStatsOptions(opts: Record<string, unknown> | undefined, now: number): { query: StatsQuery; nodes: string[] } {
  const o = opts ?? {}
  let from: number
  let to: number
  if (o.day !== undefined && o.day !== null) {
    if (typeof o.day !== 'string' || !DATE.test(o.day)) throw new InvalidParams(`MonitorStats: day must be YYYY-MM-DD, got ${shown(o.day)}`)
    from = parseTime(o.day, 'day')
    to = from + DAY_MS
  } else {
    to = o.to === undefined || o.to === null ? now : parseTime(o.to, 'to')
    from = o.from === undefined || o.from === null ? to - DAY_MS : parseTime(o.from, 'from')
  }
  if (!(from < to)) throw new InvalidParams('MonitorStats: from must be before to')
  const kind = oneOf<Kind | 'all'>(o.kind, ['syscall', 'http', 'all'], 'kind', 'all')
  if (o.name !== undefined && o.name !== null && (typeof o.name !== 'string' || o.name.length > 256)) {
    throw new InvalidParams('MonitorStats: name must be the name of one syscall or route (a string)')
  }
  const raw = o.node === undefined || o.node === null ? [''] : Array.isArray(o.node) ? o.node : [o.node]
  if (raw.length === 0 || raw.length > MAX_NODES) throw new InvalidParams(`MonitorStats: node names 1 to ${MAX_NODES} nodes`)
  const nodes = raw.map((n) => {
    if (n === '' || n === 'self') return ''
    if (typeof n !== 'string' || !/^https?:\/\/[^/\s]+\/?$/.test(n)) {
      throw new InvalidParams(`MonitorStats: node must be "" (this node) or a node's URL like http://10.0.0.2:4800, got ${shown(n)}`)
    }
    return n.replace(/\/$/, '')
  })
  const query: StatsQuery = {
    from,
    to,
    granularity: oneOf(o.granularity, GRANULARITIES, 'granularity', 'total'),
    sort: oneOf(o.sort, SORTS, 'sort', 'count'),
    ...(kind === 'all' ? {} : { kind }),
    ...(typeof o.name === 'string' ? { name: o.name } : {}),
  }
  return { query, nodes: [...new Set(nodes)] }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

function toStatsRow(r: StoredRow, withStart: boolean): StatsRow {
  return {
    node: '',
    kind: r.kind,
    name: r.name,
    ...(withStart ? { start: r.start * 1000 } : {}),
    count: r.count,
    errors: r.errors,
    avgMs: r.count ? round(r.totalMs / r.count) : 0,
    maxMs: round(r.maxMs),
    p95Ms: round(quantileMs(r.hist, 0.95, r.maxMs)),
  }
}

/** Answers a query from the table: days when asked by day (or for whole days), else hours. */
export function runQuery(table: MonitorTable, q: StatsQuery): StatsRow[] {
  const wholeDays = q.from % DAY_MS === 0 && q.to % DAY_MS === 0
  const span = q.granularity === 'hour' ? HOUR_SEC : q.granularity === 'day' || wholeDays ? DAY_SEC : HOUR_SEC
  const rows = table.read(span, Math.floor(q.from / 1000), Math.ceil(q.to / 1000), { kind: q.kind, name: q.name }, MAX_ROWS + 1)
  if (rows.length > MAX_ROWS) {
    throw new InvalidParams(`MonitorStats: more than ${MAX_ROWS} rows in that range; ask for a shorter range, by day, or for one name`)
  }
  const out = q.granularity === 'total' ? [...sumRows(rows, (r) => `${r.kind} ${r.name}`).values()].map((r) => toStatsRow(r, false)) : rows.map((r) => toStatsRow(r, true))
  return sortRows(out, q.sort)
}

/** Sorts in place: by start first (series), then the key, largest first (names A→Z). */
export function sortRows(rows: StatsRow[], sort: SortKey): StatsRow[] {
  const key = sort === 'avg' ? 'avgMs' : sort === 'max' ? 'maxMs' : sort === 'p95' ? 'p95Ms' : sort
  return rows.sort(
    (a, b) =>
      (a.start ?? 0) - (b.start ?? 0) ||
      (key === 'name' ? 0 : (b[key] as number) - (a[key] as number)) ||
      a.name.localeCompare(b.name) ||
      a.node.localeCompare(b.node),
  )
}
