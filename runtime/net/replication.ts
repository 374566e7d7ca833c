// MiMei across nodes: publishing signed version records (DHT + gossip), providing (replicas that
// follow the author's versions in real time), finding providers, and syncing versions by blocks.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import { findUserKey } from '../identity/index.ts'
import type { Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import type { Grant } from '../permissions/index.ts'
import type { Net } from './index.ts'
import { serveBlocks } from './blockproto.ts'
import { MIMEI_PROTOCOL, serveRecords, fetchRecord, fetchDelta, deltaLimit, type Delta } from './mimeiproto.ts'
import { applyDelta, deltaSince, snapshotDb } from '../mimei/snapshot.ts'
import { MiMeiType } from '../mimei/index.ts'
import { decodeRecord, encodeRecord, providerCid, recordKey, recordSummary, signRecord, verifyRecord, type VersionRecord } from './records.ts'
import { SyncJob, type SyncProgress } from './sync.ts'
import type { SyncStarter } from './admit.ts'
import { offenseLog } from './wire.ts'

export interface ReplicationComponents extends BaseComponents {
  readonly identity: Identity
  readonly mimei: MiMeiStore
  readonly net: Net
  /** The node's own grant, for reads it makes on the author's behalf (the refs it signs). */
  readonly system: Grant
}

/** Records in the DHT expire (kad-dht keeps them 48 h); they are put again well before. */
const REANNOUNCE_MS = 6 * 3600_000
const topicOf = (mid: string) => `leither/mimei/${mid}`
/**
 * Gossip is the fast path for new versions, not the only one: a replica also asks a few connected
 * peers for the newest record this often, so it converges even where the gossip mesh has not
 * formed (seen with 20 nodes on one machine) or an announcement was lost.
 */
const POLL_MS = 30_000
/** LEITHER_REPLICA_POLL_MS (ms, 0 = off) replaces POLL_MS: tests that prove gossip alone turn polling off. */
const pollMs = (v = process.env.LEITHER_REPLICA_POLL_MS) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : POLL_MS)

export class Replication implements Subsystem {
  readonly name = 'replication'
  /** 'synced' (detail: SyncResult) after each version installed from the network. */
  readonly events = new EventTarget()
  private readonly log
  private readonly jobs = new Map<string, SyncJob>()
  private timer: ReturnType<typeof setInterval> | undefined
  private catchUpTimer: ReturnType<typeof setTimeout> | undefined
  private pollTimer: ReturnType<typeof setInterval> | undefined
  private running = false
  private announceWhenConnected = false
  private shared = new Set<number>()

  constructor(private readonly c: ReplicationComponents) {
    this.log = c.log.child('replication')
  }

  private get libp2p(): Libp2p {
    return this.c.net.libp2p as unknown as Libp2p
  }
  private get db() {
    return this.c.mimei.db
  }

  async start(): Promise<void> {
    const offense = offenseLog(this.log)
    this.refreshShared()
    await serveBlocks(this.libp2p, { mimei: this.c.mimei, sharedIds: () => this.shared }, offense)
    await serveRecords(this.libp2p, (mid, ver) => this.recordFor(mid, ver), (mid, ver, since) => this.deltaFor(mid, ver, since), offense)
    const pubsub = this.c.net.libp2p.services.pubsub
    this.running = true
    pubsub.addEventListener('message', (evt) => {
      if (this.running) this.onGossip(evt.detail as { topic: string; data: Uint8Array; from?: PeerId })
    })
    for (const { mid } of this.sharedRows()) pubsub.subscribe(topicOf(mid))
    // A published MiMei announces each new version as soon as it is backed up.
    this.c.mimei.onBackup((mid) => {
      if (this.running && this.mode(mid) === 'publish') this.publishLatest(mid).catch((err) => this.log.warn('announce failed', { mid, error: (err as Error).message }))
    })
    this.c.net.libp2p.addEventListener('peer:connect', () => {
      if (!this.running || !this.announceWhenConnected) return
      this.announceWhenConnected = false
      // Give identify a moment to learn the peer's protocols before querying through it.
      setTimeout(() => this.running && this.reannounceAll(), 500)
    })
    this.timer = setInterval(() => this.reannounceAll(), REANNOUNCE_MS)
    this.timer.unref?.()
    this.setPollInterval(pollMs())
    // Catch up on what changed while this node was away (partition, restart).
    this.catchUpTimer = setTimeout(() => this.catchUp(), 1000)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearInterval(this.timer)
    if (this.pollTimer) clearInterval(this.pollTimer)
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer)
    const jobs = [...this.jobs.values()].filter((j) => !j.finished)
    for (const job of jobs) job.cancel()
    // Let cancelled jobs unwind before the store below them closes.
    await Promise.allSettled(jobs.map((j) => j.done))
  }

  /** Polls peers for newer records every `ms`; 0 stops it (then only gossip and catch-up bring versions). */
  setPollInterval(ms: number): void {
    if (this.pollTimer) clearInterval(this.pollTimer)
    this.pollTimer = ms > 0 ? setInterval(() => this.poll(), ms) : undefined
    this.pollTimer?.unref?.()
  }

  // — state —

  private sharedRows(): { mid: string; mode: string }[] {
    return this.db.query('SELECT mid, mode FROM net_shared').all() as { mid: string; mode: string }[]
  }
  private refreshShared(): void {
    this.shared = new Set(
      (this.db.query('SELECT m.id FROM net_shared s JOIN mimei m ON m.mid = s.mid').all() as { id: number }[]).map((r) => r.id),
    )
  }
  private mode(mid: string): string | undefined {
    return (this.db.query('SELECT mode FROM net_shared WHERE mid = ?').get(mid) as { mode: string } | null)?.mode
  }
  private share(mid: string, mode: 'publish' | 'provide'): void {
    this.db.query('INSERT INTO net_shared (mid, mode, since) VALUES (?, ?, ?) ON CONFLICT (mid) DO UPDATE SET mode = excluded.mode').run(mid, mode, Date.now())
    this.refreshShared()
    this.c.net.libp2p.services.pubsub.subscribe(topicOf(mid))
  }
  private keepRecord(r: VersionRecord): void {
    this.db.query('INSERT OR REPLACE INTO net_records (mid, ver, record) VALUES (?, ?, ?)').run(r.mid, r.ver, encodeRecord(r))
  }
  /** The signed record of a version (newest when ver is undefined), if this node holds it. */
  recordFor(mid: string, ver?: number): VersionRecord | undefined {
    const row = (
      ver === undefined
        ? this.db.query('SELECT record FROM net_records WHERE mid = ? ORDER BY ver DESC LIMIT 1').get(mid)
        : this.db.query('SELECT record FROM net_records WHERE mid = ? AND ver = ?').get(mid, ver)
    ) as { record: Uint8Array } | null
    return row ? decodeRecord(row.record) : undefined
  }

  // — publishing —

  /** Signs the record of the MiMei's last version with the author's key, which must be here. */
  private signLatest(mid: string): VersionRecord {
    const row = this.c.mimei.row(mid)
    if (row.last === null) throw new InvalidParams(`MiMei ${mid} has no version yet; back it up (MMBackup) before publishing`)
    const v = this.c.mimei.versionInfo(mid, row.last)
    let key
    try {
      key = findUserKey(this.c.dataDir, row.author, () => {})
    } catch {
      throw new PermissionDenied(`publishing signs with the author's key, which this node does not hold (author ${row.author})`)
    }
    const refs = Object.keys(this.c.mimei.getRefs(this.c.system, mid)).slice(0, 256)
    const record = signRecord(key, { mid, app: row.app, ext: row.ext, mark: row.mark, type: row.type, ver: row.last, cid: v.cid, seq: v.seq, size: v.size, created: v.created, refs })
    this.keepRecord(record)
    return record
  }

  private async announce(record: VersionRecord): Promise<{ dht: boolean; gossip: number }> {
    const libp2p = this.libp2p
    const data = encodeRecord(record)
    const signal = AbortSignal.timeout(20_000)
    let dht = true
    if (libp2p.getPeers().length === 0) {
      // The DHT waits for peers; announce again as soon as one connects instead of hanging.
      this.announceWhenConnected = true
      return { dht: false, gossip: 0 }
    }
    // Gossip first: providers following the MiMei hear of the version at once; the DHT (for
    // nodes that look it up later) may take a few round trips.
    const sent = await this.c.net.libp2p.services.pubsub.publish(topicOf(record.mid), data).catch(() => ({ recipients: [] as unknown[] }))
    await Promise.all([
      libp2p.contentRouting.put(recordKey(record.mid), data, { signal }),
      libp2p.contentRouting.provide(providerCid('mimei', record.mid), { signal }),
      libp2p.contentRouting.provide(CID.parse(record.cid), { signal }),
    ]).catch((err) => {
      dht = false
      this.log.info('DHT announce incomplete (few peers yet?)', { mid: record.mid, error: (err as Error).message })
    })
    return { dht, gossip: sent.recipients.length }
  }

  async publishLatest(mid: string) {
    const record = this.signLatest(mid)
    const result = await this.announce(record)
    this.log.info('published', { mid, ver: record.ver, dht: result.dht, peers: result.gossip })
    return { ...recordSummary(record), ...result }
  }

  async publish(who: Grant, mid: string) {
    const row = this.c.mimei.row(mid)
    this.c.mimei.require(row, who, 'publish')
    this.share(mid, 'publish')
    return this.publishLatest(mid)
  }

  async unpublish(who: Grant, mid: string): Promise<boolean> {
    this.c.mimei.require(this.c.mimei.row(mid), who, 'publish')
    return this.unshare(mid)
  }

  private unshare(mid: string): boolean {
    const gone = this.db.query('DELETE FROM net_shared WHERE mid = ?').run(mid).changes > 0
    this.refreshShared()
    this.c.net.libp2p.services.pubsub.unsubscribe(topicOf(mid))
    this.jobs.get(mid)?.cancel()
    return gone
  }

  // — providing —

  /** Becomes a replica: syncs now, then follows new versions as the author announces them. */
  async provide(who: Grant, mid: string) {
    if (who.kind !== 'owner' && who.kind !== 'system') throw new PermissionDenied('only the node owner decides what this node replicates')
    if (this.mode(mid) !== 'publish') this.share(mid, 'provide')
    const job = this.startSync(mid, {})
    const result = await job.done.catch((err) => ({ error: (err as Error).message }))
    // Announcing ourselves as a provider may take a DHT round; the caller need not wait for it.
    this.libp2p.contentRouting
      .provide(providerCid('mimei', mid), { signal: AbortSignal.timeout(60_000) })
      .catch((err) => this.log.info('provider announcement incomplete', { mid, error: (err as Error).message }))
    return result
  }

  async unprovide(who: Grant, mid: string): Promise<boolean> {
    if (who.kind !== 'owner' && who.kind !== 'system') throw new PermissionDenied('only the node owner decides what this node replicates')
    if (this.mode(mid) !== 'provide') return false
    return this.unshare(mid)
  }

  // — finding —

  async findProviders(mid: string, ver?: number, timeoutMs = 10_000, enough = 20): Promise<{ peer: string; addrs: string[] }[]> {
    const key = ver === undefined ? providerCid('mimei', mid) : CID.parse(this.recordOrThrow(mid, ver).cid)
    const out = new Map<string, string[]>()
    try {
      for await (const p of this.libp2p.contentRouting.findProviders(key, { signal: AbortSignal.timeout(timeoutMs) })) {
        if (p.id.equals(this.libp2p.peerId)) continue
        out.set(p.id.toString(), p.multiaddrs.map((a) => a.toString()))
        if (out.size >= enough) break
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError' && (err as Error).name !== 'TimeoutError') this.log.debug('findProviders', { error: (err as Error).message })
    }
    return [...out].map(([peer, addrs]) => ({ peer, addrs }))
  }

  private recordOrThrow(mid: string, ver: number): VersionRecord {
    const r = this.recordFor(mid, ver)
    if (!r) throw new NotFound(`no signed record of version ${ver} of ${mid} here; sync the MiMei first`)
    return r
  }

  /** The newest record anywhere: the DHT, the providers, or this node. */
  async newestRecord(mid: string, providers: PeerId[], signal?: AbortSignal): Promise<VersionRecord | undefined> {
    let best = this.recordFor(mid)
    const consider = (r: VersionRecord | undefined) => {
      if (r && r.mid === mid && (!best || r.ver > best.ver)) best = r
    }
    // Providers answer directly; the DHT lookup runs alongside, and once the providers have
    // answered it gets one more second (a full DHT query can take many).
    const dhtAbort = new AbortController()
    const dht = this.libp2p.contentRouting
      .get(recordKey(mid), { signal: AbortSignal.any([dhtAbort.signal, AbortSignal.timeout(5000), ...(signal ? [signal] : [])]) })
      .then((v) => consider(decodeRecord(v)), () => {})
    await Promise.all(providers.slice(0, 8).map((p) => fetchRecord(this.libp2p, p, mid, undefined, signal).then(consider, () => {})))
    if (best) await Promise.race([dht, Bun.sleep(1000)])
    else await dht
    dhtAbort.abort()
    return best
  }

  // — syncing —

  /** Newer versions announced while a sync of the same MiMei was running: synced right after it. */
  private readonly pending = new Map<string, { ver?: number; from?: PeerId[] }>()
  /** Failed syncs of provided MiMei in a row, for the retry backoff. */
  private readonly failures = new Map<string, number>()

  startSync(mid: string, opts: { ver?: number; depth?: number; from?: PeerId[]; startedBy?: SyncStarter }): SyncJob {
    const running = this.jobs.get(mid)
    if (running && !running.finished) {
      if (opts.ver !== undefined) this.pending.set(mid, { ver: Math.max(opts.ver, this.pending.get(mid)?.ver ?? 0), from: opts.from })
      return running
    }
    const job = new SyncJob(mid, opts, {
      libp2p: this.libp2p,
      mimei: this.c.mimei,
      log: this.log,
      findProviders: async (m) => (await this.findProviders(m, undefined, 5000, 3)).map((p) => peerIdFromString(p.peer)),
      connectedPeers: () => this.libp2p.getPeers(),
      newestRecord: (m, peers, signal) => this.newestRecord(m, peers, signal),
      recordFor: (m, v) => this.recordFor(m, v),
      fetchRecord: (peer, m, v, signal) => fetchRecord(this.libp2p, peer, m, v, signal),
      keepRecord: (r) => this.keepRecord(r),
      // References are followed for whoever asked: a user's sync reaches only what they may sync.
      syncRef: (ref, depth) => this.startSync(ref, { depth, startedBy: opts.startedBy }).done.then(() => undefined),
      tryDelta: (r, peers, signal) => this.tryDelta(r, peers, signal),
      limits: { maxFileBytes: this.c.config.maxFileBytes },
    })
    this.jobs.set(mid, job)
    const next = () => {
      const wanted = this.pending.get(mid)
      this.pending.delete(mid)
      // Against the installed version: the announcement's record is already kept (onGossip).
      if (this.running && wanted && this.installedVer(mid) < (wanted.ver ?? Infinity)) this.startSync(mid, wanted)
    }
    job.done.then(
      (result) => {
        this.failures.delete(mid)
        this.refreshShared()
        this.events.dispatchEvent(new CustomEvent('synced', { detail: result }))
        next()
      },
      (err) => {
        this.refreshShared()
        if (this.pending.has(mid)) return next()
        // A replica keeps trying (the announcer may have been busy, or a peer away): 1 s, 4 s,
        // 16 s, 64 s, then it waits for the next announcement or restart.
        const n = (this.failures.get(mid) ?? 0) + 1
        this.failures.set(mid, n)
        if (this.running && this.mode(mid) === 'provide' && n <= 4) {
          this.log.info('sync failed; retrying', { mid, attempt: n, error: (err as Error).message })
          setTimeout(() => this.running && this.startSync(mid, { ver: opts.ver }), 1000 * 4 ** (n - 1)).unref?.()
        }
      },
    )
    return job
  }

  status(mid: string): SyncProgress | undefined {
    return this.jobs.get(mid)?.progress()
  }

  cancel(who: SyncStarter, mid: string): boolean {
    const job = this.jobs.get(mid)
    if (!job || job.finished) return false
    if (who.kind !== 'owner' && who.kind !== 'system' && (!who.userId || job.startedBy?.userId !== who.userId)) {
      throw new PermissionDenied(`the sync of ${mid} was started by ${job.startedBy ? 'another user' : 'this node'}; only who started it or the node owner may cancel it`)
    }
    job.cancel()
    return true
  }

  private onGossip(msg: { topic: string; data: Uint8Array; from?: PeerId }): void {
    if (!msg.topic.startsWith('leither/mimei/')) return
    let record: VersionRecord
    try {
      record = verifyRecord(decodeRecord(msg.data))
    } catch (err) {
      this.log.info('ignored a bad version announcement', { topic: msg.topic, error: (err as Error).message })
      return
    }
    if (topicOf(record.mid) !== msg.topic || this.mode(record.mid) !== 'provide') return
    if (record.ver <= this.installedVer(record.mid)) return
    this.keepRecord(record)
    this.log.info('new version announced', { mid: record.mid, ver: record.ver })
    this.startSync(record.mid, { ver: record.ver, from: msg.from ? [msg.from] : [] })
  }

  private poll(): void {
    if (!this.running) return
    const peers = this.libp2p.getPeers()
    for (const { mid, mode } of this.sharedRows()) {
      if (mode !== 'provide' || this.jobs.get(mid)?.finished === false) continue
      const local = this.recordFor(mid)?.ver ?? 0
      const ask = [...peers].sort(() => Math.random() - 0.5).slice(0, 3)
      for (const peer of ask) {
        fetchRecord(this.libp2p, peer, mid, undefined, AbortSignal.timeout(5000)).then(
          (r) => {
            if (!r || r.ver <= local || !this.running) return
            this.keepRecord(r)
            this.startSync(mid, { ver: r.ver, from: [peer] })
          },
          () => {},
        )
      }
    }
  }

  /**
   * The keys changed from the author's sequence `since` to version `ver`, when this node's
   * database still is exactly that version (the author's node right after a backup); else none.
   */
  private deltaFor(mid: string, ver: number, since: number): Iterable<Delta> | undefined {
    let row
    try {
      row = this.c.mimei.row(mid)
    } catch {
      return undefined
    }
    if (row.type !== MiMeiType.database || row.last !== ver || !this.shared.has(row.id)) return undefined
    if (this.c.mimei.versionInfo(mid, ver).seq !== row.seq || since > row.seq) return undefined
    return deltaSince({ db: this.c.mimei.db, m: row.id }, since)
  }

  /**
   * Database sync by delta: when this replica's `cur` is still its last version, ask providers for
   * the keys changed since, apply them, and keep the result only if it hashes to the signed CID
   * of the new version. Returns the version's blocks, or undefined to sync by blocks instead.
   */
  private async tryDelta(record: VersionRecord, providers: PeerId[], signal: AbortSignal): Promise<string[] | undefined> {
    if (record.type !== MiMeiType.database) return undefined
    let row
    try {
      row = this.c.mimei.row(record.mid)
    } catch {
      return undefined
    }
    const base = row.last === null ? undefined : this.recordFor(record.mid, row.last)
    if (!base || base.ver >= record.ver) return undefined
    const target = { db: this.c.mimei.db, m: row.id }
    if (snapshotDb(target, undefined).cid !== base.cid) return undefined
    for (const peer of providers.slice(0, 3)) {
      const delta = await fetchDelta(this.libp2p, peer, record.mid, record.ver, base.seq, signal, deltaLimit(record, base)).catch(() => undefined)
      if (!delta) continue
      try {
        return this.c.mimei.db.transaction(() => {
          applyDelta(target, delta)
          if (snapshotDb(target, undefined).cid !== record.cid) throw new Error('the delta does not lead to the signed version')
          return snapshotDb(target, this.c.mimei.blocks).blocks
        })()
      } catch (err) {
        this.log.info('delta refused; syncing by blocks', { mid: record.mid, peer: peer.toString(), error: (err as Error).message })
      }
    }
    return undefined
  }

  /** After a restart or a partition: every provided MiMei is checked against the network once. */
  private catchUp(): void {
    for (const { mid, mode } of this.sharedRows()) {
      if (mode === 'provide') this.startSync(mid, {}).done.catch(() => {})
    }
  }

  private reannounceAll(): void {
    for (const { mid, mode } of this.sharedRows()) {
      const record = mode === 'publish' ? this.safe(() => this.signLatest(mid)) : this.recordFor(mid)
      if (record) this.announce(record).catch(() => {})
      if (mode === 'provide') this.libp2p.contentRouting.provide(providerCid('mimei', mid)).catch(() => {})
    }
  }

  /** The newest version installed here (0 when none): what a sync brings, not what was announced. */
  private installedVer(mid: string): number {
    return this.safe(() => this.c.mimei.row(mid).last) ?? 0
  }

  private safe<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch {
      return undefined
    }
  }

  /** Local versus network view of a MiMei. */
  async show(who: Grant, mid: string) {
    const local = (() => {
      try {
        return this.c.mimei.versions(who, mid)
      } catch (err) {
        if (err instanceof NotFound) return null
        throw err
      }
    })()
    const providers = await this.findProviders(mid, undefined, 5000)
    const network = await this.newestRecord(mid, providers.map((p) => peerIdFromString(p.peer)))
    return {
      mid,
      mode: this.mode(mid) ?? 'none',
      local: local && { last: local.last, release: local.release, versions: local.versions.length },
      network: network ? recordSummary(network) : null,
      providers,
      sync: this.status(mid) ?? null,
    }
  }
}

export { MIMEI_PROTOCOL }

export function replication() {
  return (components: ReplicationComponents) => new Replication(components)
}
