// The DHT side of announcing versions: one announcement in flight per MiMei; versions backed up
// while it runs are put once it ends, the newest only. Followers have heard each version by gossip
// already; the DHT serves nodes that look a MiMei up later, and for them only the newest counts.
// Each put walks the network and writes to ~20 peers: one per backup, overlapping, kept the author
// busy for seconds, and its next backup (and announcement) waited behind them.
import type { VersionRecord } from './records.ts'

/** Puts `record` in the DHT (and provides the MiMei's provider key too when `withMid`). */
export type DhtPut = (record: VersionRecord, withMid: boolean) => Promise<void>

type Resolvers<T> = ReturnType<typeof Promise.withResolvers<T>>

interface Job {
  record: VersionRecord
  withMid: boolean
  done: Resolvers<boolean>
}

export function dhtAnnouncer(put: DhtPut) {
  /** Per MiMei: the chain that runs its announcements, and the one waiting to run next. */
  const lanes = new Map<string, { running: Promise<void>; next?: Job }>()

  async function run(mid: string, first: Job): Promise<void> {
    for (let job: Job | undefined = first; job; ) {
      const ok = await put(job.record, job.withMid).then(
        () => true,
        () => false,
      )
      job.done.resolve(ok)
      const lane = lanes.get(mid)!
      job = lane.next
      lane.next = undefined
    }
    lanes.delete(mid)
  }

  return {
    /**
     * Announces `record` in the DHT after the running announcement of its MiMei, merged with
     * others that wait: resolves true when a put carrying this version or a newer one succeeded.
     */
    announce(record: VersionRecord, withMid = false): Promise<boolean> {
      const lane = lanes.get(record.mid)
      if (lane) {
        if (!lane.next) lane.next = { record, withMid, done: Promise.withResolvers<boolean>() }
        else {
          if (record.ver >= lane.next.record.ver) lane.next.record = record
          lane.next.withMid ||= withMid
        }
        return lane.next.done.promise
      }
      const job = { record, withMid, done: Promise.withResolvers<boolean>() }
      const entry: { running: Promise<void>; next?: Job } = { running: Promise.resolve() }
      lanes.set(record.mid, entry)
      entry.running = run(record.mid, job)
      return job.done.promise
    },
    /** Resolves when nothing of `mid` is running or waiting. */
    async settled(mid: string): Promise<void> {
      for (let lane = lanes.get(mid); lane; lane = lanes.get(mid)) await lane.running
    },
  }
}

export type DhtAnnouncer = ReturnType<typeof dhtAnnouncer>
