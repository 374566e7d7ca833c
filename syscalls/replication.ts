// The MiMei-across-nodes family: publish, provide, find providers, sync, show.
import { InvalidParams } from '../runtime/errors.ts'
import type { Replication } from '../runtime/net/replication.ts'
import { limitGuest } from '../runtime/permissions/ratelimit.ts'
import { syscall, type CallContext, type SyscallRow } from './row.ts'

const MID = { name: 'mid', type: 'string', doc: 'MiMei id' } as const

function replication(ctx: CallContext): Replication {
  if (!ctx.sys.replication) throw new InvalidParams('this node runs offline (p2p: false); start it with the network to share MiMei')
  return ctx.sys.replication
}

export const REPLICATION_SYSCALLS: SyscallRow[] = [
  syscall<[string]>({
    name: 'MiMeiPublish',
    sid: true,
    params: [MID],
    returns: '{mid, ver, cid, dht, gossip}',
    returnsType: 'VersionSummary & { dht: boolean; gossip: number }',
    capability: 'session',
    errors: ['NotFound', 'InvalidParams', 'PermissionDenied'],
    doc: "Announces the MiMei's last version to the network: a record signed by the author in the DHT, this node as a provider, and a message to every provider following it. Later backups are announced by themselves; records are re-announced before they expire.",
    handler: (ctx, mid) => replication(ctx).publish(ctx.grant, mid),
  }),
  syscall<[string]>({
    name: 'MiMeiUnpublish',
    sid: true,
    params: [MID],
    returns: 'true if it was published',
    returnsType: 'boolean',
    capability: 'session',
    errors: ['NotFound', 'PermissionDenied'],
    doc: 'Stops announcing the MiMei and serving it (records already in the DHT expire on their own).',
    handler: (ctx, mid) => replication(ctx).unpublish(ctx.grant, mid),
  }),
  syscall<[string]>({
    name: 'MiMeiProvide',
    sid: true,
    params: [MID],
    returns: 'the first sync: {mid, ver, cid, blocks, bytes, reused} or {error}',
    returnsType: 'SyncResult | { error: string }',
    capability: 'node.admin',
    errors: ['PermissionDenied'],
    doc: "Makes this node a replica: it syncs the MiMei now, serves it, and syncs every new version the author announces within seconds.",
    handler: (ctx, mid) => replication(ctx).provide(ctx.grant, mid),
  }),
  syscall<[string]>({
    name: 'MiMeiUnprovide',
    sid: true,
    params: [MID],
    returns: 'true if it was provided',
    returnsType: 'boolean',
    capability: 'node.admin',
    errors: ['PermissionDenied'],
    doc: 'Stops replicating the MiMei (the data already here stays until deleted).',
    handler: (ctx, mid) => replication(ctx).unprovide(ctx.grant, mid),
  }),
  syscall<[string, number | undefined]>({
    name: 'MiMeiFindProvs',
    sid: true,
    params: [MID, { name: 'ver', type: 'int', optional: true, doc: 'only providers of this version' }],
    returns: 'list of {peer, addrs}',
    returnsType: 'Provider[]',
    capability: 'session',
    errors: ['NotFound'],
    doc: 'Nodes that serve the MiMei (or one version of it), found through the DHT.',
    handler: (ctx, mid, ver) => replication(ctx).findProviders(mid, ver),
  }),
  syscall<[string, Record<string, unknown> | undefined]>({
    name: 'MiMeiSync',
    sid: true,
    params: [MID, { name: 'options', type: 'map', optional: true, doc: '{ver: a version (default the newest), depth: references to follow (default 1), wait: false to return at once}' }],
    returns: '{mid, ver, cid, blocks, bytes, reused} (or the progress when wait is false)',
    returnsType: 'SyncResult | SyncProgress',
    capability: 'session',
    errors: ['NotFound', 'Timeout', 'InvalidParams', 'PermissionDenied', 'InvalidSignature', 'QuotaExceeded'],
    doc: 'Pulls a version from the network: the signed record is verified, every block hash-checked, and nothing is installed unless the blocks expand to the size the author signed, within the node\u2019s limits; an interrupted sync resumes. The node owner may sync any MiMei; other users only MiMei they author or already hold a right on here. Progress: MiMeiSyncStatus.',
    async handler(ctx, mid, options) {
      const ver = options?.ver
      const depth = options?.depth
      if (ver !== undefined && !Number.isSafeInteger(ver)) throw new InvalidParams('options.ver must be an integer')
      if (depth !== undefined && (!Number.isSafeInteger(depth) || (depth as number) < 0 || (depth as number) > 8)) throw new InvalidParams('options.depth must be 0..8')
      const startedBy = { userId: ctx.grant.userId, kind: ctx.grant.kind }
      const job = replication(ctx).startSync(mid, { ver: ver as number | undefined, depth: depth as number | undefined, startedBy })
      if (options?.wait === false) return job.progress()
      return job.done
    },
  }),
  syscall<[string]>({
    name: 'MiMeiSyncStatus',
    sid: true,
    params: [MID],
    returns: '{state, ver, blocks, bytes, reused, error} or null',
    returnsType: 'SyncProgress | null',
    capability: 'public',
    errors: ['Busy'],
    doc: 'Progress of the latest sync of the MiMei on this node. Without a session: 20 calls at once, then 5 a second per address (Busy past that).',
    handler: (ctx, mid) => {
      limitGuest(ctx.sys, ctx.grant, ctx.meta, 'MiMeiSyncStatus')
      return replication(ctx).status(mid) ?? null
    },
  }),
  syscall<[string]>({
    name: 'MiMeiSyncCancel',
    sid: true,
    params: [MID],
    returns: 'true if a sync was running',
    returnsType: 'boolean',
    capability: 'session',
    errors: ['PermissionDenied'],
    doc: 'Stops a running sync; blocks already fetched are kept, so the next sync resumes. Only who started the sync, or the node owner, may cancel it.',
    handler: (ctx, mid) => replication(ctx).cancel(ctx.grant, mid),
  }),
  syscall<[string]>({
    name: 'MiMeiShow',
    sid: true,
    params: [MID],
    returns: '{mid, mode, local, network, providers, sync}',
    returnsType: "{ mid: string; mode: 'publish' | 'provide' | 'none'; local: { last: number | null; release: number | null; versions: number } | null; network: VersionSummary | null; providers: Provider[]; sync: SyncProgress | null }",
    capability: 'session',
    errors: ['PermissionDenied'],
    doc: "Local versus network view: this node's versions, the newest signed record on the network, its providers.",
    handler: (ctx, mid) => replication(ctx).show(ctx.grant, mid),
  }),
]
