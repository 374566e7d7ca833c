// The hot path: per-call counters in memory, per syscall and per HTTP route, for the current hour.
import { BUCKETS, bucketOf } from './histogram.ts'

export type Kind = 'syscall' | 'http'
export const HOUR_MS = 3_600_000

/** Counters of one syscall or route: this hour's (written out and reset by drain) and since start. */
export class Stat {
  count = 0
  errors = 0
  totalMs = 0
  maxMs = 0
  readonly hist = new Uint32Array(BUCKETS)
  /** Before this hour's counters, since the node started (Dispatcher.stats reads the sum). */
  allCount = 0
  allErrors = 0
  allTotalMs = 0
  allMaxMs = 0
  constructor(
    readonly kind: Kind,
    readonly name: string,
  ) {}

  add(ms: number, failed: boolean): void {
    this.count++
    this.totalMs += ms
    if (ms > this.maxMs) this.maxMs = ms
    this.hist[bucketOf(ms)]++
    if (failed) this.errors++
  }

  /** Moves the current counters into the since-start ones and zeroes them. */
  reset(): void {
    this.allCount += this.count
    this.allErrors += this.errors
    this.allTotalMs += this.totalMs
    if (this.maxMs > this.allMaxMs) this.allMaxMs = this.maxMs
    this.count = this.errors = this.totalMs = this.maxMs = 0
    this.hist.fill(0)
  }
}

/** What one syscall or route did in one hour, taken out of the counters to be stored. */
export interface Snapshot {
  /** Start of the hour, unix ms. */
  readonly hour: number
  readonly kind: Kind
  readonly name: string
  readonly count: number
  readonly errors: number
  readonly totalMs: number
  readonly maxMs: number
  readonly hist: Uint32Array
}

/** Methods recorded by name; any other (a client may send any token) is counted as OTHER. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export class Recorder {
  /** False: calls are not recorded at all (config monitor: false, or a bench's off side). */
  enabled = true
  private readonly syscalls = new Map<string, Stat>()
  /** route template → method → counters: no string is built per request. */
  private readonly routes = new Map<string, Map<string, Stat>>()
  private readonly all: Stat[] = []
  private hourStart = 0
  /** End of the hour the counters belong to (unix ms). */
  hourEnd = 0
  /** Hours that ended before they were written out. */
  private pending: Snapshot[] = []

  constructor(private readonly clock: () => number) {
    this.tick()
  }

  syscall(name: string, ms: number, failed: boolean): void {
    if (!this.enabled) return
    let s = this.syscalls.get(name)
    if (!s) this.syscalls.set(name, (s = this.stat('syscall', name)))
    s.add(ms, failed)
  }

  /** One HTTP request; `route` is the route template (/mm/*), never the raw path. */
  http(method: string, route: string, ms: number, failed: boolean): void {
    if (!this.enabled) return
    const m = METHODS.has(method) ? method : 'OTHER'
    let byMethod = this.routes.get(route)
    if (!byMethod) this.routes.set(route, (byMethod = new Map()))
    let s = byMethod.get(m)
    if (!s) byMethod.set(m, (s = this.stat('http', `${m} ${route}`)))
    s.add(ms, failed)
  }

  /** Per syscall, since start. */
  totals(): Map<string, { count: number; errors: number; totalMs: number; maxMs: number }> {
    const out = new Map<string, { count: number; errors: number; totalMs: number; maxMs: number }>()
    for (const [name, s] of this.syscalls) {
      out.set(name, { count: s.allCount + s.count, errors: s.allErrors + s.errors, totalMs: s.allTotalMs + s.totalMs, maxMs: Math.max(s.allMaxMs, s.maxMs) })
    }
    return out
  }

  /** Takes everything counted since the last drain, by hour, and zeroes this hour's counters. */
  drain(): Snapshot[] {
    this.tick()
    const out = this.pending
    this.pending = []
    this.snapshotInto(out)
    return out
  }

  private stat(kind: Kind, name: string): Stat {
    const s = new Stat(kind, name)
    this.all.push(s)
    return s
  }

  /**
   * Reads the clock: when it has left the current hour, the counters so far belong to the hour that
   * ended. Calls are not timed against the clock one by one (that would cost a clock read each): the
   * monitor ticks at each hour's end and at every flush.
   */
  tick(): void {
    const now = this.clock()
    if (now < this.hourEnd && now >= this.hourStart) return
    this.snapshotInto(this.pending)
    this.hourStart = now - (now % HOUR_MS)
    this.hourEnd = this.hourStart + HOUR_MS
  }

  private snapshotInto(out: Snapshot[]): void {
    for (const s of this.all) {
      if (s.count === 0) continue
      out.push({ hour: this.hourStart, kind: s.kind, name: s.name, count: s.count, errors: s.errors, totalMs: s.totalMs, maxMs: s.maxMs, hist: s.hist.slice() })
      s.reset()
    }
  }
}
