// The sys family: connection check, node facts, and the monitor's stats (this node's and the user's other nodes').
import { NotFound } from '../runtime/errors.ts'
import { loadUserKey } from '../runtime/identity/index.ts'
import { parseStatsOptions, remoteStats, sortRows, type StatsRow } from '../runtime/monitor/index.ts'
import { BUILD, VERSION } from '../runtime/version.ts'
import { syscall, type CallContext } from './row.ts'

const startedAt = Date.now()

/** Another node's stats, asked with the owner's key (the caller is the owner: MonitorStats needs node.admin). */
function askNode(ctx: CallContext, url: string, opts: Record<string, unknown>): Promise<StatsRow[]> {
  const { dataDir, config, log } = ctx.sys
  const key = loadUserKey(dataDir, config.owner, (m) => log.warn(m))
  if (!key) throw new NotFound(`the owner key is not in this node's data dir, so other nodes cannot be asked; ask them directly (leither monitor --node URL)`)
  return remoteStats(url, key, opts)
}

export const SYS_SYSCALLS = [
  syscall<[unknown]>({
    name: 'Echo',
    sid: false,
    params: [{ name: 'value', type: 'any', doc: 'any Hprose value' }],
    returns: 'the value, unchanged',
    returnsType: 'unknown',
    capability: 'public',
    errors: ['InvalidParams'],
    doc: 'Returns its argument: checks the connection and that every value type survives the trip.',
    handler: (_ctx, value) => value,
  }),
  syscall<[]>({
    name: 'SysInfo',
    sid: true,
    params: [],
    returns: '{ver, build, runtime, platform, arch, uptimeSec, nodeid, peerid}',
    returnsType: '{ ver: string; build: string; runtime: string; platform: string; arch: string; uptimeSec: number; nodeid: string; peerid: string }',
    capability: 'public',
    errors: [],
    doc: 'What this node runs and for how long.',
    handler: (ctx) => ({
      ver: VERSION,
      build: BUILD ? `${BUILD.target} ${BUILD.commit} ${BUILD.date}` : 'source',
      runtime: `bun ${Bun.version}`,
      platform: process.platform,
      arch: process.arch,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      nodeid: ctx.sys.identity.nodeId,
      peerid: ctx.sys.identity.peerId,
    }),
  }),
  syscall<[Record<string, unknown> | undefined]>({
    name: 'MonitorStats',
    sid: true,
    params: [
      {
        name: 'opts',
        type: 'map',
        optional: true,
        doc:
          '{day?: "YYYY-MM-DD" (a UTC day), from?, to? (unix ms or ISO dates; default the last 24 hours), ' +
          'granularity?: total|hour|day (default total), sort?: count|avg|max|p95|errors|name, kind?: syscall|http, ' +
          'name?: one syscall or route, node?: URL or list of URLs of other nodes you own ("" = this one)}',
      },
    ],
    returns: 'list of {node, kind, name, start?, count, errors, avgMs, maxMs, p95Ms}',
    returnsType: 'StatsRow[]',
    capability: 'node.admin',
    errors: ['PermissionDenied', 'InvalidParams', 'NotFound', 'Timeout'],
    doc:
      'Calls served per syscall and HTTP route (route templates, e.g. GET /mm/*) with error counts and latencies, ' +
      'summed over the range or by hour or UTC day. Other nodes are asked over HTTP with a one-minute passport signed by ' +
      "this node's owner key, and answer when that key owns them too; their rows carry their URL as node.",
    async handler(ctx, opts) {
      const { query, nodes } = parseStatsOptions(opts, Date.now())
      // Other nodes get the range as resolved here: one clock decides what "the last 24 hours" is.
      const forwarded = { ...query }
      const parts = await Promise.all(nodes.map((url) => (url === '' ? ctx.sys.monitor.query(query) : askNode(ctx, url, forwarded))))
      return nodes.length === 1 ? parts[0] : sortRows(parts.flat(), query.sort)
    },
  }),
]
