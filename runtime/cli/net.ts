// `leither peers` and `leither connect`: the swarm of a running node, as its owner.
import type { PeerRow } from '../net/inspect.ts'
import { RemoteCallError } from '../rpc/client.ts'
import type { Parsed } from './args.ts'
import { connect } from './session.ts'

async function asOwner(p: Parsed, body: (call: (method: string, args: unknown[]) => Promise<unknown>) => Promise<number>): Promise<number> {
  const session = connect(p)
  try {
    const sid = await session.login()
    return await body((method, args) => session.call(method, [sid, ...args]))
  } catch (err) {
    console.error(err instanceof RemoteCallError ? err.message : `leither: ${(err as Error).message}`)
    return 1
  } finally {
    await session.close()
  }
}

function line(r: PeerRow): string {
  const rtt = r.latencyMs === null || r.latencyMs === undefined ? '-' : `${Math.round(r.latencyMs)} ms`
  const via = r.relayed ? '  (relayed)' : ''
  return `${r.peer}  ${r.direction.padEnd(8)} ${rtt.padStart(7)}  ${r.addrs.join(' ')}${via}`
}

export const peersCommand = (p: Parsed) =>
  asOwner(p, async (call) => {
    const rows = (await call('SwarmPeers', [])) as PeerRow[]
    if (p.flags.json) console.log(JSON.stringify(rows, null, 2))
    else if (!rows.length) console.log('no peers connected (add one: leither connect MULTIADDR, or --bootstrap when starting)')
    else for (const r of rows) console.log(line(r))
    return 0
  })

export function connectCommand(p: Parsed): Promise<number> {
  if (p.args.length !== 1) {
    console.error('usage: leither connect MULTIADDR')
    return Promise.resolve(2)
  }
  return asOwner(p, async (call) => {
    const row = (await call('SwarmConnect', [p.args[0]])) as PeerRow
    if (p.flags.json) console.log(JSON.stringify(row, null, 2))
    else console.log(`connected ${line(row)}`)
    return 0
  })
}
