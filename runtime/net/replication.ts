// MiMei across nodes, the subsystem: publishing signed version records (DHT + gossip), providing
// (replicas that follow the author's versions, following.ts), finding providers, and running syncs
// (sync.ts) with what they need from the network and this node. Records kept: record-store.ts;
// database deltas: deltas.ts.
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
import { fetchBlocks, serveBlocks } from './blockproto.ts'
import { MIMEI_PROTOCOL, serveRecords, fetchRecord } from './mimeiproto.ts'
import { decodeRecord, encodeRecord, providerCid, recordKey, recordSummary, signRecord, type VersionRecord } from './records.ts'
import { recordStore } from './record-store.ts'
import { deltas, type SinceDelta } from './deltas.ts'
import { following } from './following.ts'
import { dhtAnnouncer } from './dht-announce.ts'
import { SyncJob, type SyncNetwork, type SyncOptions, type SyncProgress } from './sync.ts'
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
/**
 * A backup's DHT put waits this long for more backups to merge into it (dht-announce.ts); an
 * explicit publish puts at once. Followers have the version by gossip meanwhile.
 */
const DHT_SETTLE_MS = 3_000
/** How long one peer may take to answer for the newest record of a MiMei. */
const PEER_ASK_MS = 5_000

export class Replication implements Subsystem {
  readonly name = 'replication'
  /** 'synced' (detail: SyncResult) after each version installed from the network. */
  readonly events = new EventTarget()
  private readonly log
  private readonly jobs = new Map<string, SyncJob>()
  private timer: ReturnType<typeof setInterval> | undefined
  private running = false
  private announceWhenConnected = false
  private readonly records
  private readonly deltas
  private follow: ReturnType<typeof following> | undefined
  /** What a sync asks of the network; the same for every job. */
  private readonly network: SyncNetwork
  /** DHT announcements of versions, one at a time per MiMei. */
  private readonly dht = dhtAnnouncer((record, withMid) => this.putInDht(record, withMid), DHT_SETTLE_MS, () => this.stopping.signal)
  /** Aborts DHT work in flight when the node stops. */
  private stopping = new AbortController()

  constructor(private readonly c: ReplicationComponents) {
    this.log = c.log.child('replication')
    this.records = recordStore(() => c.mimei.db)
    this.deltas = deltas({
      mimei: c.mimei,
      log: this.log,
      sharedIds: () => this.records.sharedIds(),
      recordFor: (mid, ver) => this.records.get(mid, ver),
      recordBefore: (mid, ver) => this.records.before(mid, ver),
    })
    this.network = {
      findProviders: async (m) => (await this.findProviders(m, undefined, 5000, 3)).map((p) => peerIdFromString(p.peer)),
      connectedPeers: () => this.libp2p.getPeers(),
      newestRecord: (m, peers, signal) => this.newestRecord(m, peers, signal),
      fetchRecord: (peer, m, v, signal) => fetchRecord(this.libp2p, peer, m, v, signal),
      fetchBlocks: (peer, cids, signal) => fetchBlocks(this.libp2p, peer, cids, signal),
      delta: (record, peers, signal, announced) => this.deltas.sync(this.libp2p, record, peers, signal, announced),
    }
  }

  private get libp2p(): Libp2p {
    return this.c.net.libp2p as unknown as Libp2p
  }

  async start(): Promise<void> {
    const offense = offenseLog(this.log)
    this.stopping = new AbortController()
    this.records.refresh()
    await serveBlocks(this.libp2p, { mimei: this.c.mimei, sharedIds: () => this.records.sharedIds() }, offense)
    await serveRecords(this.libp2p, (mid, ver) => this.records.get(mid, ver), (mid, ver, since) => this.deltas.since(mid, ver, since), offense)
    this.running = true
    this.follow = following({
      libp2p: this.c.net.libp2p,
      records: this.records,
      log: this.log,
      installedVer: (mid) => this.installedVer(mid),
      syncing: (mid) => this.jobs.get(mid)?.finished === false,
      sync: (mid, { catchUp, ...opts }) => void this.startSync(mid, opts, catchUp).done.catch(() => {}),
      findProviders: (mid, timeoutMs) => this.findProviders(mid, undefined, timeoutMs, 8),
    })
    this.follow.start()
    // A published MiMei announces each new version as soon as it is backed up.
    this.c.mimei.onBackup((mid) => {
      if (this.running && this.records.mode(mid) === 'publish') this.publishLatest(mid).catch((err) => this.log.warn('announce failed', { mid, error: (err as Error).message }))
    })
    this.c.net.libp2p.addEventListener('peer:connect', () => {
      if (!this.running || !this.announceWhenConnected) return
      this.announceWhenConnected = false
      // Give identify a moment to learn the peer's protocols before querying through it.
      setTimeout(() => this.running && this.reannounceAll(), 500)
    })
    this.timer = setInterval(() => this.reannounceAll(), REANNOUNCE_MS)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    this.running = false
    this.stopping.abort()
    if (this.timer) clearInterval(this.timer)
    this.follow?.stop()
    const jobs = [...this.jobs.values()].filter((j) => !j.finished)
    for (const job of jobs) job.cancel()
    // Let cancelled jobs unwind before the store below them closes.
    await Promise.allSettled(jobs.map((j) => j.done))
  }

  /** Polls peers for newer records every `ms`; 0 stops it (then only gossip and catch-up bring versions). */
  setPollInterval(ms: number): void {
    this.follow?.setPollInterval(ms)
  }

  /** The signed record of a version (newest when ver is undefined), if this node holds it. */
  recordFor(mid: string, ver?: number): VersionRecord | undefined {
    return this.records.get(mid, ver)
  }

  private share(mid: string, mode: 'publish' | 'provide'): void {
    this.records.share(mid, mode)
    this.follow?.subscribe(mid)
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
    this.records.keep(record)
    return record
  }

  /**
   * Gossip to the MiMei's followers (with the delta from the previous version when given), then the
   * DHT: the record and the version's CID, and the MiMei's provider key when `withMid` (it is the
   * same for every version: put when publishing starts and every REANNOUNCE_MS, not per backup).
   */
  private async announce(record: VersionRecord, delta?: SinceDelta, withMid = false): Promise<{ dht: boolean; gossip: number }> {
    if (this.libp2p.getPeers().length === 0) {
      // The DHT waits for peers; announce again as soon as one connects instead of hanging.
      this.announceWhenConnected = true
      return { dht: false, gossip: 0 }
    }
    // Gossip first: providers following the MiMei hear of the version at once; the DHT (for
    // nodes that look it up later) takes a walk and ~20 writes, one announcement at a time.
    const gossip = (await this.follow?.announce({ record, delta })) ?? 0
    this.log.info('published', { mid: record.mid, ver: record.ver, peers: gossip })
    const dht = await this.dht.announce(record, { withMid, now: withMid })
    return { dht, gossip }
  }

  /** One DHT announcement (dht-announce.ts runs them one at a time per MiMei). */
  private async putInDht(record: VersionRecord, withMid: boolean): Promise<void> {
    const routing = this.libp2p.contentRouting
    const signal = AbortSignal.any([AbortSignal.timeout(20_000), this.stopping.signal])
    try {
      await Promise.all([
        routing.put(recordKey(record.mid), encodeRecord(record), { signal }),
        routing.provide(CID.parse(record.cid), { signal }),
        withMid ? routing.provide(providerCid('mimei', record.mid), { signal }) : undefined,
      ])
    } catch (err) {
      this.log.info('DHT announce incomplete (few peers yet?)', { mid: record.mid, ver: record.ver, error: (err as Error).message })
      throw err
    }
  }

  /** Resolves when no DHT announcement of `mid` is running or waiting. */
  dhtSettled(mid: string): Promise<void> {
    return this.dht.settled(mid)
  }

  async publishLatest(mid: string, withMid = false, record = this.signLatest(mid)) {
    // Before any await: the delta is read from `cur`, which is this version only until the next write.
    const result = await this.announce(record, this.deltas.forAnnouncement(record), withMid)
    return { ...recordSummary(record), ...result }
  }

  async publish(who: Grant, mid: string) {
    const row = this.c.mimei.row(mid)
    this.c.mimei.require(row, who, 'publish')
    // Signed before it is shared: a MiMei with no version yet is refused and stays unpublished.
    const record = this.signLatest(mid)
    this.share(mid, 'publish')
    return this.publishLatest(mid, true, record)
  }

  async unpublish(who: Grant, mid: string): Promise<boolean> {
    this.c.mimei.require(this.c.mimei.row(mid), who, 'publish')
    return this.unshare(mid)
  }

  private unshare(mid: string): boolean {
    const gone = this.records.unshare(mid)
    this.follow?.unsubscribe(mid)
    this.jobs.get(mid)?.cancel()
    return gone
  }

  // — providing —

  /** Becomes a replica: syncs now, then follows new versions as the author announces them. */
  async provide(who: Grant, mid: string) {
    if (who.kind !== 'owner' && who.kind !== 'system') throw new PermissionDenied('only the node owner decides what this node replicates')
    if (this.records.mode(mid) !== 'publish') this.share(mid, 'provide')
    const job = this.startSync(mid, {})
    const result = await job.done.catch((err) => ({ error: (err as Error).message }))
    // Announcing ourselves as a provider may take a DHT round; the caller need not wait for it.
    const put = this.libp2p.contentRouting
      .provide(providerCid('mimei', mid), { signal: AbortSignal.timeout(60_000) })
      .catch((err) => this.log.info('provider announcement incomplete', { mid, error: (err as Error).message }))
      .finally(() => this.providerPuts.get(mid) === put && this.providerPuts.delete(mid))
    this.providerPuts.set(mid, put)
    return result
  }

  /** The DHT walks of MiMeiProvide's provider announcements, while they run. */
  private readonly providerPuts = new Map<string, Promise<unknown>>()

  /** Resolves when this node's announcement as a provider of `mid` (MiMeiProvide) has ended. */
  async providerSettled(mid: string): Promise<void> {
    await this.providerPuts.get(mid)
  }

  async unprovide(who: Grant, mid: string): Promise<boolean> {
    if (who.kind !== 'owner' && who.kind !== 'system') throw new PermissionDenied('only the node owner decides what this node replicates')
    if (this.records.mode(mid) !== 'provide') return false
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
    // Each provider gets PEER_ASK_MS: a hung or hostile one must not hold a sync (and the
    // announced versions queued behind it) for the protocol's 30 s.
    const ask = () => AbortSignal.any([AbortSignal.timeout(PEER_ASK_MS), ...(signal ? [signal] : [])])
    await Promise.all(providers.slice(0, 8).map((p) => fetchRecord(this.libp2p, p, mid, undefined, ask()).then(consider, () => {})))
    if (best) await Promise.race([dht, Bun.sleep(1000)])
    else await dht
    dhtAbort.abort()
    return best
  }

  // — syncing —

  /** Newer versions announced while a sync of the same MiMei was running: synced right after it. */
  private readonly pending = new Map<string, SyncOptions>()
  /** Jobs that are a catch-up after a start (following.ts): replaced by a sync of a named version. */
  private readonly catchUps = new WeakSet<SyncJob>()
  /** Failed syncs of provided MiMei in a row, for the retry backoff. */
  private readonly failures = new Map<string, number>()

  /** `catchUp`: the node's catch-up after a start (following.ts), replaced by a sync of a named version. */
  startSync(mid: string, opts: SyncOptions, catchUp = false): SyncJob {
    const running = this.jobs.get(mid)
    if (running && !running.finished && this.catchUps.has(running) && opts.ver !== undefined && opts.ver > this.installedVer(mid)) {
      // A catch-up after a start looks for the newest version without knowing it, and may be asking
      // peers that are slow or behind; a version a peer named (or announced) replaces it at once.
      this.pending.set(mid, { ver: opts.ver, from: opts.from, delta: opts.delta })
      this.catchUps.delete(running)
      running.cancel()
      return running
    }
    if (running && !running.finished) {
      // The newest version wanted (and its announced delta) runs after this job.
      if (opts.ver !== undefined && opts.ver > (this.pending.get(mid)?.ver ?? 0)) this.pending.set(mid, { ver: opts.ver, from: opts.from, delta: opts.delta })
      return running
    }
    const job = new SyncJob(mid, opts, this.network, {
      mimei: this.c.mimei,
      log: this.log,
      limits: { maxFileBytes: this.c.config.maxFileBytes },
      recordFor: (m, v) => this.records.get(m, v),
      keepRecord: (r) => this.records.keep(r),
      // References are followed for whoever asked: a user's sync reaches only what they may sync.
      syncRef: (ref, depth) => this.startSync(ref, { depth, startedBy: opts.startedBy }).done.then(() => undefined),
    })
    this.jobs.set(mid, job)
    if (catchUp) this.catchUps.add(job)
    const next = () => {
      const wanted = this.pending.get(mid)
      this.pending.delete(mid)
      // Against the installed version: the announcement's record is already kept (onGossip).
      if (this.running && wanted && this.installedVer(mid) < (wanted.ver ?? Infinity)) this.startSync(mid, wanted)
    }
    job.done.then(
      (result) => {
        this.failures.delete(mid)
        this.records.refresh()
        this.events.dispatchEvent(new CustomEvent('synced', { detail: result }))
        next()
      },
      (err) => {
        this.records.refresh()
        if (this.pending.has(mid)) return next()
        // A replica keeps trying (the announcer may have been busy, or a peer away): 1 s, 4 s,
        // 16 s, 64 s, then it waits for the next announcement or restart.
        const n = (this.failures.get(mid) ?? 0) + 1
        this.failures.set(mid, n)
        if (this.running && this.records.mode(mid) === 'provide' && n <= 4) {
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

  private reannounceAll(): void {
    for (const { mid, mode } of this.records.shared()) {
      const record = mode === 'publish' ? this.safe(() => this.signLatest(mid)) : this.recordFor(mid)
      if (record) this.announce(record, undefined, mode === 'publish').catch(() => {})
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
      mode: this.records.mode(mid) ?? 'none',
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
