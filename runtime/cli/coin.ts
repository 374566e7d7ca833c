// `leither coin …`: the owner's account on a running node: balance, send, history (amounts in Nuo).
import type { Parsed } from './args.ts'
import { withOwnerSession } from './session.ts'

/** 毫 as Nuo with three decimals: 1234 → "1.234". */
export function formatNuo(milli: bigint | number): string {
  const m = BigInt(milli)
  const sign = m < 0n ? '-' : ''
  const a = m < 0n ? -m : m
  return `${sign}${a / 1000n}.${String(a % 1000n).padStart(3, '0')}`
}

/** Nuo with at most three decimals ("1.5", "0.001") → 毫; undefined when malformed. */
export function parseNuo(text: string): number | undefined {
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(text.trim())
  if (!m) return undefined
  const milli = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'))
  return Number.isSafeInteger(milli) && milli > 0 ? milli : undefined
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)

interface BlockView {
  hash: string
  type: string
  balance: bigint
  time: number
  to?: string
  amount?: bigint
  memo?: string
}

export function coinBalance(p: Parsed): Promise<number> {
  return withOwnerSession(p, async (s) => {
    const [account] = p.args
    const r = (await s.call('CoinBalance', account ? [s.sid, account] : [s.sid])) as { account: string; balance: bigint; pending: bigint }
    if (p.flags.json) console.log(json(r))
    else console.log(`${r.account}: ${formatNuo(r.balance)} Nuo${BigInt(r.pending) ? ` (+${formatNuo(r.pending)} pending)` : ''}`)
    return 0
  })
}

export function coinSend(p: Parsed): Promise<number> | number {
  const [to, amountText, ...memo] = p.args
  const amount = amountText === undefined ? undefined : parseNuo(amountText)
  if (!to || amount === undefined) {
    console.error('usage: leither coin send ACCOUNT AMOUNT [MEMO]   (AMOUNT in Nuo, up to 3 decimals, e.g. 1.5)')
    return 2
  }
  return withOwnerSession(p, async (s) => {
    const b = (await s.call('CoinTransfer', [s.sid, to, amount, memo.join(' ')])) as BlockView
    console.log(`sent ${formatNuo(amount)} Nuo to ${to} (final); balance ${formatNuo(b.balance)} Nuo; block ${b.hash.slice(0, 16)}`)
    return 0
  })
}

export function coinHistory(p: Parsed): Promise<number> {
  return withOwnerSession(p, async (s) => {
    const [account] = p.args
    const count = p.flags.count === undefined ? 20 : Number(p.flags.count)
    const blocks = (await s.call('CoinHistory', [s.sid, account ?? null, 0, count])) as BlockView[]
    if (p.flags.json) {
      console.log(json(blocks))
      return 0
    }
    for (const b of blocks) {
      const when = new Date(b.time).toISOString().slice(0, 19).replace('T', ' ')
      const what = b.type === 'send' ? `-${formatNuo(b.amount!)} to ${b.to}${b.memo ? ` "${b.memo}"` : ''}` : b.type === 'receive' ? `+${formatNuo(b.amount!)}` : 'open'
      console.log(`${when}  ${b.type.padEnd(7)} ${what.padEnd(48)} balance ${formatNuo(b.balance)}`)
    }
    return 0
  })
}
