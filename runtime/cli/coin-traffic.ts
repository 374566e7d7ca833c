// `leither coin traffic [PEER]`: the node's traffic meters per peer node (bytes, debts, payments, state).
import type { TrafficRow } from '../ledger/traffic.ts'
import type { Parsed } from './args.ts'
import { formatNuo } from './coin.ts'
import { withOwnerSession } from './session.ts'

/** A row as CoinTraffic sends it (the wire carries the state as its name). */
type Row = TrafficRow

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`

export function coinTraffic(p: Parsed): Promise<number> {
  return withOwnerSession(p, async (s) => {
    const [peer] = p.args
    const rows = (await s.call('CoinTraffic', peer ? [s.sid, peer] : [s.sid])) as Row[]
    if (p.flags.json) {
      console.log(json(rows))
      return 0
    }
    if (!rows.length) console.log('no traffic metered yet')
    for (const r of rows) {
      console.log(
        `${r.peer}  ${r.state.padEnd(7)} served ${mb(r.served)}${r.relayed ? ` (${mb(r.relayed)} relayed)` : ''}, received ${mb(r.received)}${r.receivedRelayed ? ` (+${mb(r.receivedRelayed)} relayed)` : ''}; ` +
          `owes ${formatNuo(r.debt)} Nuo, paid here ${formatNuo(r.credited)}, paid by this node ${formatNuo(r.paid)}; free left ${formatNuo(r.allowance)}; balance ${formatNuo(r.balance)} Nuo` +
          (r.refused ? `; refused to settle: ${r.refused}` : ''),
      )
    }
    return 0
  })
}
