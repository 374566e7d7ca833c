// The DHT side of announcing versions: one announcement in flight per MiMei, started a moment after
// a backup; versions backed up meanwhile are merged into it, the newest put. Followers have heard
// each version by gossip already; the DHT serves nodes that look a MiMei up later, and for them only
// the newest counts. Each put walks the network and writes to ~20 peers: one per backup, overlapping,
// kept a 20-node author busy for seconds, and its next backup (and announcement) waited behind them.
import type { VersionRecord } from './records.ts'

/** Puts `record` in the DHT (and provides the MiMei's provider key too when `withMid`). */
export type DhtPut = (record: VersionRecord, withMid: boolean) => Promise<void>

type Resolvers<T> = ReturnType<typeof Promise.withResolvers<T>>

interface Job {
  record: VersionRecord
  withMid: boolean
  done: Resolvers<boolean>
}

interface Lane {
  running: Promise<void>
  /** What the next put carries: the newest record asked for since the last put started. */
  next?: Job
}

/** Sleeps `ms`, or less when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })

/** `settleMs`: how long each put waits for more versions to merge; `signal` ends every lane (the node stops). */
export function dhtAnnouncer(put: DhtPut, settleMs: number, signal: () => AbortSignal) {
  const lanes = new Map<string, Lane>()

  async function run(mid: string, lane: Lane, wait: number): Promise<void> {
    // Versions that arrive during a put wait `settleMs` after it: puts of one MiMei are spaced.
    for (let job = lane.next; job; job = lane.next, wait = settleMs) {
      await pause(wait, signal())
      job = lane.next!
      lane.next = undefined
      const ok = signal().aborted ? false : await put(job.record, job.withMid).then(() => true, () => false)
      job.done.resolve(ok)
    }
    lanes.delete(mid)
  }

  return {
    /**
     * Announces `record` in the DHT with the next put of its MiMei (after `settleMs` unless `now`
     * and nothing runs), merged with others that wait: resolves true when a put carrying this
     * version or a newer one succeeded.
     */
    announce(record: VersionRecord, opts: { withMid?: boolean; now?: boolean } = {}): Promise<boolean> {
      const withMid = opts.withMid ?? false
      let lane = lanes.get(record.mid)
      const fresh = !lane
      lane ??= { running: Promise.resolve() }
      if (!lane.next) lane.next = { record, withMid, done: Promise.withResolvers<boolean>() }
      else {
        if (record.ver >= lane.next.record.ver) lane.next.record = record
        lane.next.withMid ||= withMid
      }
      const done = lane.next.done.promise
      if (fresh) {
        lanes.set(record.mid, lane)
        lane.running = run(record.mid, lane, opts.now ? 0 : settleMs)
      }
      return done
    },
    /** Resolves when nothing of `mid` is running or waiting. */
    async settled(mid: string): Promise<void> {
      for (let lane = lanes.get(mid); lane; lane = lanes.get(mid)) await lane.running
    },
  }
}

export type DhtAnnouncer = ReturnType<typeof dhtAnnouncer>
