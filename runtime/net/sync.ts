// One MiMei sync: find the version's signed record, fetch every missing block of its snapshot
// from providers (hash-checked), install the version, then follow references to the depth asked.
// Progress is observable, the job can be cancelled, and a new job resumes where one stopped:
// blocks already here are not fetched again.
import type { SyncResult } from '../rpc/browser/types.ts'
import type { PeerId } from '@libp2p/interface'
import { NotFound, PaymentRequired, Timeout } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import type { MiMeiStore } from '../mimei/index.ts'
import { parseCid, RAW } from '../mimei/blocks.ts'
import { joined, MAX_BLOCKS_PER_REQUEST } from './blockproto.ts'
import { WireError } from './wire.ts'
import type { SinceDelta } from './deltas.ts'
import { linksOf } from './dag.ts'
import { admitVersion, authorizeSync, type AdmitLimits, type SyncStarter } from './admit.ts'
import type { VersionRecord } from './records.ts'

/** Where versions come from: their records, who provides them, their bytes. */
export interface SyncNetwork {
  /** Providers the DHT knows (a lookup: asked only when the peers at hand cannot serve). */
  findProviders(mid: string): Promise<PeerId[]>
  /** Peers connected now: asked directly when the DHT knows no provider (yet). */
  connectedPeers(): PeerId[]
  newestRecord(mid: string, providers: PeerId[], signal: AbortSignal): Promise<VersionRecord | undefined>
  fetchRecord(peer: PeerId, mid: string, ver: number, signal: AbortSignal): Promise<VersionRecord | undefined>
  /** Blocks from one peer, each hash-checked, in the pieces they arrived in. */
  fetchBlocks(peer: PeerId, cids: string[], signal: AbortSignal): AsyncIterable<{ cid: string; parts: Uint8Array[]; size: number }>
  /** Database versions: the changed keys only (the announced delta, else asked of providers); the version's blocks when that worked. */
  delta(record: VersionRecord, providers: PeerId[], signal: AbortSignal, announced?: SinceDelta): Promise<string[] | undefined>
}

/** Where they go: this node's store and records. */
export interface SyncLocal {
  mimei: MiMeiStore
  log: Logger
  /** What a version may expand to (the node's limits, and where quotas hook in). */
  limits: AdmitLimits
  recordFor(mid: string, ver?: number): VersionRecord | undefined
  keepRecord(r: VersionRecord): void
  /** Syncs a referenced MiMei to the depth left. */
  syncRef(ref: string, depth: number): Promise<void>
}

export interface SyncOptions {
  ver?: number
  depth?: number
  /** Peers known to hold the version (the announcer): asked first. */
  from?: PeerId[]
  /** The delta that came with the version's announcement. */
  delta?: SinceDelta
  startedBy?: SyncStarter
}

export interface SyncProgress {
  mid: string
  state: 'finding' | 'fetching' | 'done' | 'failed' | 'cancelled'
  ver?: number
  blocks: number
  bytes: number
  /** Blocks already present when the job started (a resumed sync). */
  reused: number
  /** The version came as a database delta (changed keys), not as blocks. */
  delta?: boolean
  error?: string
}

/** What a finished sync brought: the wire's shape (MiMeiSync), declared once for node and browser. */
export type { SyncResult } from '../rpc/browser/types.ts'

const PARALLEL = 4
/** Bytes of blocks being written to this node's packs off the event loop at once, per sync (held in memory meanwhile). */
export const STORE_BYTES_IN_FLIGHT = 16 * 1024 * 1024

/** This node could not store a block (its disk): no other provider would help. */
class StoreFailed extends Error {}

export class SyncJob {
  readonly done: Promise<SyncResult>
  finished = false
  private readonly abort = new AbortController()
  /** Blocks each peer delivered in this job. */
  private readonly delivered = new Map<string, number>()
  private state: SyncProgress

  constructor(
    readonly mid: string,
    private readonly opts: SyncOptions,
    private readonly net: SyncNetwork,
    private readonly local: SyncLocal,
  ) {
    this.state = { mid, state: 'finding', blocks: 0, bytes: 0, reused: 0 }
    this.done = this.run().then(
      (r) => {
        this.finished = true
        this.state.state = 'done'
        return r
      },
      (err) => {
        this.finished = true
        if (this.state.state !== 'cancelled') this.state = { ...this.state, state: 'failed', error: (err as Error).message }
        throw err
      },
    )
  }

  /** Who asked for this sync; undefined when the node started it (provide, gossip, catch-up). */
  get startedBy(): SyncStarter | undefined {
    return this.opts.startedBy
  }

  progress(): SyncProgress {
    return { ...this.state }
  }

  cancel(): void {
    this.state.state = 'cancelled'
    this.abort.abort(new Error('sync cancelled'))
  }

  private async run(): Promise<SyncResult> {
    const { net, local, mid } = this
    const signal = this.abort.signal
    const providers: PeerId[] = []
    const add = (peers: PeerId[]) => {
      for (const p of peers) if (!providers.some((q) => q.equals(p))) providers.push(p)
    }
    // Told where the version is (an announcement): start there, no DHT round trip. Otherwise the
    // DHT's providers, then peers connected now (announcements may still be on their way).
    add(this.opts.from ?? [])
    // The announcer is the likeliest to hold the blocks: it is asked first.
    for (const p of this.opts.from ?? []) this.delivered.set(p.toString(), 1)
    add(net.connectedPeers().slice(0, 8))
    const find = () =>
      this.opts.ver !== undefined
        ? (local.recordFor(mid, this.opts.ver) ?? this.firstRecord(providers, this.opts.ver, signal))
        : net.newestRecord(mid, providers, signal)
    let record = await find()
    if (!record) {
      // Nobody near has it: ask the DHT who provides it, then ask them.
      add(await net.findProviders(mid))
      record = await find()
    }
    if (!record) throw new NotFound(`no node announces MiMei ${mid}${this.opts.ver ? ` version ${this.opts.ver}` : ''}`)
    authorizeSync(this.opts.startedBy, record, local.mimei)
    if (this.installed(record)) {
      // Installed here already (its blocks all here and pinned): nothing to fetch, read or install.
      this.state = { ...this.state, state: 'fetching', ver: record.ver }
      local.keepRecord(record)
      await this.followRefs(record)
      return { mid, ver: record.ver, cid: record.cid, blocks: 0, bytes: 0, reused: 0 }
    }
    // A replica is charged to whoever asked for it (a user's sync to them; the node's own to its
    // owner): refused here, before a byte of it is fetched, when its signed size does not fit.
    const payer = this.opts.startedBy?.kind === 'user' ? this.opts.startedBy.userId : undefined
    local.mimei.admitReplica(mid, payer ?? local.mimei.owner, record.size)
    this.state = { ...this.state, state: 'fetching', ver: record.ver }
    const viaDelta = await net.delta(record, providers, signal, this.opts.delta)
    if (viaDelta) {
      this.state.delta = true
      await local.mimei.installVersion(record, viaDelta, true, payer)
      local.keepRecord(record)
      local.log.info('synced by delta', { mid, ver: record.ver })
      return { mid, ver: record.ver, cid: record.cid, blocks: 0, bytes: 0, reused: viaDelta.length, delta: true }
    }
    let blocks: string[]
    try {
      blocks = await this.fetchDag(record.cid, providers, signal)
    } catch (err) {
      if (signal.aborted) throw err
      // The peers asked first could not serve it all: ask the DHT for the providers, resume.
      add(await net.findProviders(mid))
      blocks = await this.fetchDag(record.cid, providers, signal)
    }
    // Nothing is installed unless the blocks expand to what the author signed, within the limits.
    admitVersion(record, local.mimei.blocks, local.limits)
    await local.mimei.installVersion(record, blocks, false, payer)
    local.keepRecord(record)
    local.log.info('synced', { mid, ver: record.ver, blocks: this.state.blocks, bytes: this.state.bytes, reused: this.state.reused })
    await this.followRefs(record)
    return { mid, ver: record.ver, cid: record.cid, blocks: this.state.blocks, bytes: this.state.bytes, reused: this.state.reused }
  }

  /** Whether this node holds version `record.ver` already, with the same content. */
  private installed(record: VersionRecord): boolean {
    try {
      return this.local.mimei.versionInfo(record.mid, record.ver).cid === record.cid
    } catch {
      return false
    }
  }

  private async followRefs(record: VersionRecord): Promise<void> {
    const depth = this.opts.depth ?? 1
    if (depth <= 0) return
    for (const ref of record.refs) {
      // MiMei references are followed; content (CID) references come with their own MiMei.
      if (/^[A-Za-z0-9_-]{27}$/.test(ref)) await this.local.syncRef(ref, depth - 1).catch((err) => this.local.log.info('reference not synced', { ref, error: (err as Error).message }))
    }
  }

  private async firstRecord(providers: PeerId[], ver: number, signal: AbortSignal): Promise<VersionRecord | undefined> {
    for (const p of providers) {
      const r = await this.net.fetchRecord(p, this.mid, ver, signal).catch(() => undefined)
      if (r) return r
    }
    return undefined
  }

  /** Breadth-first over the snapshot's links; returns every block CID of the version. */
  private async fetchDag(root: string, providers: PeerId[], signal: AbortSignal): Promise<string[]> {
    const { blocks } = this.local.mimei
    const all: string[] = []
    const seen = new Set<string>()
    let frontier = [root]
    while (frontier.length) {
      const next: string[] = []
      const missing: string[] = []
      for (const cid of frontier) {
        if (seen.has(cid)) continue
        seen.add(cid)
        all.push(cid)
        if (blocks.has(cid)) {
          this.state.reused++
          // Raw data links to nothing: only a block that may link is read.
          if (parseCid(cid).code !== RAW) next.push(...linksOf(cid, blocks.get(cid)))
        } else missing.push(cid)
      }
      for (const got of await this.fetchMany(missing, providers, signal)) next.push(...linksOf(got.cid, got.data))
      frontier = next
    }
    return all
  }

  /**
   * Fetches CIDs in batches, several in flight, trying each provider in turn for what is missing.
   * Returns the blocks that may link to others (raw data blocks are stored, not kept in memory).
   */
  private async fetchMany(cids: string[], providers: PeerId[], signal: AbortSignal): Promise<{ cid: string; data: Uint8Array }[]> {
    if (!cids.length) return []
    if (!providers.length) throw new NotFound(`no provider found for ${this.mid}`)
    const out: { cid: string; data: Uint8Array }[] = []
    const batches: string[][] = []
    for (let i = 0; i < cids.length; i += MAX_BLOCKS_PER_REQUEST) batches.push(cids.slice(i, i + MAX_BLOCKS_PER_REQUEST))
    let turn = 0
    const worker = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        let want = batch
        const left = new Set(batch)
        let why = ''
        // A provider that refuses to serve this node until it pays names the remedy: the sync says PaymentRequired.
        let unpaid = false
        // Peers that delivered before come first (a peer asked only because it is connected may
        // have nothing); batches start at different ones among equals, spreading the load.
        const start = turn++
        const order = providers
          .map((p, i) => ({ p, rank: this.delivered.get(p.toString()) ?? 0, tie: (i - start + providers.length) % providers.length }))
          .sort((x, y) => y.rank - x.rank || x.tie - y.tie)
          .map((x) => x.p)
        for (const peer of order) {
          if (!want.length) break
          try {
            for await (const b of this.net.fetchBlocks(peer, want, signal)) {
              this.delivered.set(peer.toString(), (this.delivered.get(peer.toString()) ?? 0) + 1)
              this.store(b.cid, b.parts, b.size)
              if (parseCid(b.cid).code !== RAW) out.push({ cid: b.cid, data: joined(b.parts) })
              this.state.blocks++
              this.state.bytes += b.size
              left.delete(b.cid)
            }
          } catch (err) {
            if (signal.aborted || err instanceof StoreFailed) throw err
            // A refusal for want of payment stays the reason given, whatever the next provider says.
            if (!unpaid) why = (err as Error).message
            if (err instanceof WireError && err.remoteCode === 'PaymentRequired') unpaid = true
            this.local.log.info('provider failed; trying another', { peer: peer.toString(), error: (err as Error).message })
          }
          want = want.filter((c) => left.has(c))
        }
        if (want.length) {
          const text = `${want.length} blocks of ${this.mid} could not be fetched from ${providers.length} providers${why ? ` (${unpaid ? 'one' : 'the last'} said: ${why})` : ''}; run the sync again to resume`
          throw unpaid ? new PaymentRequired(text) : new Timeout(text)
        }
      }
    }
    let stored: PromiseSettledResult<void>[]
    try {
      await Promise.all(Array.from({ length: Math.min(PARALLEL, batches.length) }, worker))
    } finally {
      // Every block received is stored (or failed) before the walk goes on or gives up.
      stored = await Promise.allSettled(this.storing.splice(0))
    }
    const failed = stored.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    return out
  }

  private readonly storing: Promise<void>[] = []
  /** Bytes being written off the event loop now. */
  private writing = 0

  /**
   * Stores a checked block: written off the event loop while the next blocks arrive, up to
   * STORE_BYTES_IN_FLIGHT at once. When the disk is that far behind, the block is written here and now,
   * holding the event loop as a synchronous write does: the connection is not read meanwhile, so
   * the sender waits (TCP) instead of the blocks piling up in memory or past the stream's buffer.
   */
  private store(cid: string, parts: Uint8Array[], size: number): void {
    const { blocks } = this.local.mimei
    if (this.writing + size > STORE_BYTES_IN_FLIGHT) {
      try {
        blocks.putChecked(cid, parts)
      } catch (err) {
        throw new StoreFailed(`storing a block failed: ${(err as Error).message}`)
      }
      return
    }
    this.writing += size
    const write = blocks.putCheckedAsync(cid, parts).then(
      () => void (this.writing -= size),
      (err) => {
        this.writing -= size
        throw new StoreFailed(`storing a block failed: ${(err as Error).message}`)
      },
    )
    write.catch(() => {}) // looked at when the fetch ends; not an unhandled rejection meanwhile
    this.storing.push(write)
  }
}
