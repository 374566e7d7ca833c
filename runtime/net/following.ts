// Following MiMei as a replica: version announcements by gossip (the author's node sends the
// signed record, with the delta from the previous version when it is small), a poll of a few
// connected peers for a newer record (where gossip did not reach), and the catch-up after a start
// (once, and from each peer that connects in the first minute); a replica that no connected peer
// follows with looks for one (seek-followers.ts).
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '../log/index.ts'
import type { SinceDelta } from './deltas.ts'
import type { NetServices } from './index.ts'
import { fetchRecord, MIMEI_PROTOCOL } from './mimeiproto.ts'
import type { RecordStore } from './record-store.ts'
import { encodeRecord, verifyRecord, type VersionRecord } from './records.ts'
import { seekFollowers } from './seek-followers.ts'
import { anyValue, decodeCbor, encodeCbor, int, list, object, str } from './wire.ts'

export const topicOf = (mid: string) => `leither/mimei/${mid}`
const TOPIC_PREFIX = 'leither/mimei/'

/**
 * Gossip is the fast path for new versions, not the only one: a replica also asks a few connected
 * peers for the newest record this often, so it converges where an announcement was lost.
 */
const POLL_MS = 30_000
/** LEITHER_REPLICA_POLL_MS (ms, 0 = off) replaces POLL_MS: tests that prove gossip alone turn polling off. */
const pollMs = (v = process.env.LEITHER_REPLICA_POLL_MS) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : POLL_MS)
/**
 * For this long after a start, each peer that connects and speaks /leither/mimei is asked at once
 * for the newest record of what this node provides (up to ASK_ON_CONNECT MiMei): a node back from
 * a crash learns the newest versions from the first peers it reaches, not from a DHT it has no
 * routing table for yet, nor from the next announcement.
 */
const RETURN_WINDOW_MS = 60_000
const ASK_ON_CONNECT = 64

export interface Announcement {
  record: VersionRecord
  delta?: SinceDelta
}

const deltaSchema = object({ since: int, records: list(anyValue, 100_000), deleted: list(str(4096), 100_000) })

/** Without a delta the message is the bare record, as nodes before announced deltas read it. */
export function encodeAnnouncement(a: Announcement): Uint8Array {
  return a.delta ? encodeCbor({ record: a.record, delta: a.delta }) : encodeRecord(a.record)
}

/** Verifies the record (signature, author, id); throws WireError on anything malformed. */
export function decodeAnnouncement(data: Uint8Array): Announcement {
  const v = decodeCbor(data) as { record?: unknown; delta?: unknown } | undefined
  if (v && typeof v === 'object' && 'record' in v) {
    const delta = deltaSchema(v.delta) as SinceDelta
    if (!delta.records.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' && typeof r[1] === 'number')) throw new Error('malformed delta')
    return { record: verifyRecord(v.record), delta }
  }
  return { record: verifyRecord(v) }
}

export interface FollowDeps {
  libp2p: Libp2p<NetServices>
  records: RecordStore
  log: Logger
  /** The newest version installed here (0 when none). */
  installedVer(mid: string): number
  /** Whether a sync of the MiMei is running now. */
  syncing(mid: string): boolean
  /**
   * Syncs a version the network has (queued after a running sync of the same MiMei). `catchUp`:
   * the newest version is not known yet; a sync of a named version replaces this one.
   */
  sync(mid: string, opts: { ver?: number; from?: PeerId[]; delta?: SinceDelta; catchUp?: boolean }): void
  /** The MiMei's providers in the DHT (not this node), for a replica no connected peer follows with. */
  findProviders(mid: string, timeoutMs: number): Promise<{ peer: string; addrs: string[] }[]>
}

export function following(deps: FollowDeps) {
  const { libp2p, records, log } = deps
  const pubsub = libp2p.services.pubsub
  let running = false
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let catchUpTimer: ReturnType<typeof setTimeout> | undefined

  const onMessage = (evt: CustomEvent<{ topic: string; data: Uint8Array; from?: PeerId }>) => {
    const msg = evt.detail
    if (!running || !msg.topic.startsWith(TOPIC_PREFIX)) return
    let a: Announcement
    try {
      a = decodeAnnouncement(msg.data)
    } catch (err) {
      log.info('ignored a bad version announcement', { topic: msg.topic, error: (err as Error).message })
      return
    }
    const { record } = a
    if (topicOf(record.mid) !== msg.topic || records.mode(record.mid) !== 'provide') return
    if (record.ver <= deps.installedVer(record.mid)) return
    records.keep(record)
    log.info('new version announced', { mid: record.mid, ver: record.ver, delta: a.delta !== undefined })
    deps.sync(record.mid, { ver: record.ver, from: msg.from ? [msg.from] : [], delta: a.delta })
  }

  /** Asks `peer` for the newest record of `mid`; a newer one than held here is synced from it. */
  const ask = (peer: PeerId, mid: string) => {
    fetchRecord(libp2p as unknown as Libp2p, peer, mid, undefined, AbortSignal.timeout(5000)).then(
      (r) => {
        // Against what is known when the answer comes: gossip may have brought the version meanwhile.
        if (!r || !running || r.ver <= Math.max(records.get(mid)?.ver ?? 0, deps.installedVer(mid))) return
        records.keep(r)
        deps.sync(mid, { ver: r.ver, from: [peer] })
      },
      () => {},
    )
  }

  const poll = () => {
    if (!running) return
    const peers = libp2p.getPeers()
    for (const mid of records.provided()) {
      if (deps.syncing(mid)) continue
      for (const peer of [...peers].sort(() => Math.random() - 0.5).slice(0, 3)) ask(peer, mid)
    }
  }

  // A replica no connected peer follows with hears no announcement: it looks for one (seek-followers.ts).
  const seeker = seekFollowers({
    libp2p: libp2p as unknown as Libp2p,
    log,
    provided: records.provided,
    subscribers: (mid) => pubsub.getSubscribers(topicOf(mid)),
    findProviders: deps.findProviders,
    connected: (peer, mid) => ask(peer, mid),
  })

  let startedAt = 0
  /** Whether the catch-up waits for a first peer (none was connected when it was due). */
  let catchUpWaits = false
  const onIdentify = (evt: CustomEvent<{ peerId: PeerId; protocols: string[] }>) => {
    if (!running || !evt.detail.protocols.includes(MIMEI_PROTOCOL.id)) return
    // However late the first peer comes, the catch-up that waited for it runs.
    if (catchUpWaits) catchUp()
    if (Date.now() - startedAt > RETURN_WINDOW_MS) return
    for (const mid of records.provided().slice(0, ASK_ON_CONNECT)) ask(evt.detail.peerId, mid)
  }

  /**
   * After a restart or a partition: every provided MiMei is checked against the network once. With
   * no peer yet there is nobody to ask (nor a DHT routing table): it waits for the first one.
   */
  const catchUp = () => {
    catchUpWaits = running && libp2p.getPeers().length === 0
    if (!running || catchUpWaits) return
    for (const mid of records.provided()) deps.sync(mid, { catchUp: true })
  }

  const setPollInterval = (ms: number) => {
    if (pollTimer) clearInterval(pollTimer)
    pollTimer = ms > 0 ? setInterval(poll, ms) : undefined
    pollTimer?.unref?.()
  }

  return {
    start(): void {
      running = true
      startedAt = Date.now()
      pubsub.addEventListener('message', onMessage as never)
      libp2p.addEventListener('peer:identify', onIdentify as never)
      for (const { mid } of records.shared()) pubsub.subscribe(topicOf(mid))
      setPollInterval(pollMs())
      catchUpTimer = setTimeout(catchUp, 1000)
      seeker.start()
    },
    stop(): void {
      running = false
      pubsub.removeEventListener('message', onMessage as never)
      libp2p.removeEventListener('peer:identify', onIdentify as never)
      setPollInterval(0)
      clearTimeout(catchUpTimer)
      seeker.stop()
    },
    subscribe: (mid: string) => pubsub.subscribe(topicOf(mid)),
    unsubscribe: (mid: string) => pubsub.unsubscribe(topicOf(mid)),
    /** Sends the announcement to the MiMei's followers; resolves with how many peers it went to. */
    async announce(a: Announcement): Promise<number> {
      const sent = await pubsub.publish(topicOf(a.record.mid), encodeAnnouncement(a)).catch(() => ({ recipients: [] as unknown[] }))
      return sent.recipients.length
    },
    /** Polls peers for newer records every `ms`; 0 stops it (then only gossip and catch-up bring versions). */
    setPollInterval,
  }
}

export type Following = ReturnType<typeof following>
