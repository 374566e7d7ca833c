// The monitor subsystem: records every syscall and HTTP request, writes them out every 10 s, answers MonitorStats.
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Store } from '../store/index.ts'
import { runQuery, type StatsQuery, type StatsRow } from './query.ts'
import { Recorder } from './recorder.ts'
import { MonitorTable } from './store.ts'

export { parseStatsOptions, sortRows, type StatsQuery, type StatsRow } from './query.ts'
export { remoteStats } from './remote.ts'

/** How often the counters are written to the database. */
export const FLUSH_MS = 10_000
/** Old rows are pruned at start and once per this many flushes (an hour). */
const PRUNE_EVERY = 360

export interface MonitorComponents extends BaseComponents {
  readonly store: Store
  /** Wall clock, unix ms (tests move it across midnight); default Date.now. */
  readonly clock?: () => number
}

export interface Monitor extends Subsystem {
  /** Whether calls are recorded (config monitor; a bench turns it off and on). */
  recording: boolean
  /** One syscall served: how long it took and whether it failed. Counters only, no I/O. */
  syscall(name: string, ms: number, failed: boolean): void
  /** One HTTP request served, by route template. */
  http(method: string, route: string, ms: number, failed: boolean): void
  /** Per syscall since the node started. */
  totals(): ReadonlyMap<string, { count: number; errors: number; totalMs: number; maxMs: number }>
  /** Reads the clock (a new hour starts new counters) and writes what was counted since the last flush. */
  flush(): void
  /** This node's stats (what was counted until now included). */
  query(q: StatsQuery): StatsRow[]
}

export function monitor() {
  return (c: MonitorComponents): Monitor => {
    const log = c.log.child('monitor')
    const clock = c.clock ?? Date.now
    const recorder = new Recorder(clock)
    recorder.enabled = c.config.monitor
    const table = new MonitorTable(() => c.store.db)
    let timer: ReturnType<typeof setInterval> | undefined
    let hourTimer: ReturnType<typeof setTimeout> | undefined
    let flushes = 0
    let started = false

    const prune = () => {
      const n = table.prune(Math.floor(clock() / 1000), c.config.monitorHourlyDays, c.config.monitorRetentionDays)
      if (n) log.debug('pruned old stats', { rows: n })
    }
    /** Moves the counters on to the next hour at its start (flushes tick too, should this timer be late). */
    const atHourEnd = () => {
      recorder.tick()
      hourTimer = setTimeout(atHourEnd, Math.max(1, recorder.hourEnd - clock()))
      hourTimer.unref?.()
    }
    const flush = () => {
      if (!started) return
      const snaps = recorder.drain()
      try {
        table.write(snaps)
      } catch (err) {
        log.error('writing stats failed; these are lost', { rows: snaps.length, error: (err as Error).message })
      }
      if (++flushes % PRUNE_EVERY === 0) prune()
    }

    return {
      name: 'monitor',
      get recording() {
        return recorder.enabled
      },
      set recording(on: boolean) {
        recorder.enabled = on
      },
      syscall: (name, ms, failed) => recorder.syscall(name, ms, failed),
      http: (method, route, ms, failed) => recorder.http(method, route, ms, failed),
      totals: () => recorder.totals(),
      flush,
      query(q) {
        flush()
        return runQuery(table, q)
      },
      start() {
        started = true
        prune()
        timer = setInterval(flush, FLUSH_MS)
        timer.unref?.()
        atHourEnd()
      },
      stop() {
        clearInterval(timer)
        clearTimeout(hourTimer)
        timer = hourTimer = undefined
        flush()
        started = false
      },
    }
  }
}
