// `leither monitor`: the calls a node served on one day, per syscall and HTTP route, as a table.
import { loadConfig, resolveDataDir } from '../config/index.ts'
import { LeitherError } from '../errors.ts'
import { findUserKey, signPassport, type KeyPair } from '../identity/index.ts'
import { callRemote, RemoteCallError } from '../rpc/client.ts'
import { remoteStats, sortRows, type StatsRow } from '../monitor/index.ts'
import type { SortKey } from '../monitor/query.ts'
import type { Parsed } from './args.ts'
import { linkFor, openBrowser } from './open.ts'

const DAY = /^\d{4}-\d{2}-\d{2}$/

const num = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

/** The table: one line per syscall or route, a node column when more than one node was asked. */
export function formatTable(rows: readonly StatsRow[], withNode: boolean): string {
  const header = [...(withNode ? ['NODE'] : []), 'KIND', 'NAME', 'COUNT', 'ERRORS', 'AVG ms', 'P95 ms', 'MAX ms']
  const body = rows.map((r) => [...(withNode ? [r.node] : []), r.kind, r.name, String(r.count), String(r.errors), num(r.avgMs), num(r.p95Ms), num(r.maxMs)])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const left = withNode ? 3 : 2
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()
  return [line(header), ...body.map(line)].join('\n')
}

/** `--open`: a one-time link that opens the monitor page (apps/monitor on the node's origin) signed in as the owner. */
async function openPage(url: string, key: KeyPair): Promise<number> {
  try {
    const nodeid = String(await callRemote(url, 'GetVar', ['', 'nodeid']))
    const ppt = signPassport(key, { audience: nodeid, data: { CertFor: 'Self' }, ttl: 300 })
    const { sid } = (await callRemote(url, 'Login', [ppt])) as { sid: string }
    const { code, url: page } = (await callRemote(url, 'SessionCode', [sid])) as { code: string; url: string }
    const link = new URL(linkFor(page, url))
    link.pathname = '/apps/monitor/'
    link.search = `?code=${encodeURIComponent(code)}`
    console.log('Open the monitor (the link works once, within a minute):')
    console.log(link.href)
    if (!openBrowser(link.href)) console.error('(no browser to start here: open the link yourself)')
    return 0
  } catch (err) {
    console.error(`leither monitor: ${err instanceof RemoteCallError ? err.message : (err as Error).message}`)
    return 1
  }
}

export async function monitorCommand(p: Parsed): Promise<number> {
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  const { config } = loadConfig(dataDir)
  const day = (p.flags.day as string | undefined) ?? new Date().toISOString().slice(0, 10)
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    console.error(`leither monitor: --day must be a date YYYY-MM-DD, not "${day}"`)
    return 2
  }
  const sort = ((p.flags.sort as string | undefined) ?? 'count') as SortKey
  const nodes = (p.flags.node as string[] | undefined) ?? [`http://127.0.0.1:${config.port}`]
  if (p.flags.open) return openPage(nodes[0]!.replace(/\/$/, ''), findUserKey(dataDir, config.owner, (m) => console.error(`warning: ${m}`)))
  const opts: Record<string, unknown> = { day, sort, ...(p.flags.kind ? { kind: p.flags.kind } : {}) }
  let rows: StatsRow[]
  try {
    // Each node is asked directly, logged in with the owner key of this data dir.
    const key = findUserKey(dataDir, config.owner, (m) => console.error(`warning: ${m}`))
    const parts = await Promise.all(nodes.map((url) => remoteStats(url.replace(/\/$/, ''), key, opts)))
    rows = sortRows(parts.flat(), sort)
  } catch (err) {
    console.error(`leither monitor: ${err instanceof LeitherError ? err.wireText() : (err as Error).message}`)
    return 1
  }
  if (p.flags.json) {
    console.log(JSON.stringify(rows, null, 2))
    return 0
  }
  console.log(`${day} (UTC), ${nodes.length === 1 ? nodes[0] : `${nodes.length} nodes`}, by ${sort}`)
  console.log(rows.length ? formatTable(rows, nodes.length > 1) : 'no calls recorded that day')
  return 0
}

