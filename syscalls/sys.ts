// The sys family: connection check, node facts and per-syscall statistics.
import { BUILD, VERSION } from '../runtime/version.ts'
import { syscall } from '../runtime/rpc/syscall.ts'

const startedAt = Date.now()

export const SYS_SYSCALLS = [
  syscall<[unknown]>({
    name: 'Echo',
    sid: false,
    params: [{ name: 'value', type: 'any', doc: 'any Hprose value' }],
    returns: 'the value, unchanged',
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
  syscall<[]>({
    name: 'MonitorStats',
    sid: true,
    params: [],
    returns: 'list of {name, count, errors, avgMs, maxMs}',
    capability: 'node.admin',
    errors: ['PermissionDenied'],
    doc: 'Calls served per syscall since the node started, with error counts and latencies.',
    handler: (ctx) =>
      [...ctx.sys.syscallStats()].map(([name, s]) => ({
        name,
        count: s.count,
        errors: s.errors,
        avgMs: s.count ? s.totalMs / s.count : 0,
        maxMs: s.maxMs,
      })),
  }),
]
