// The wallet: the signed-in user's Nuo — balance, send, history (CoinBalance, CoinTransfer,
// CoinHistory) and, for the owner, what this node's peers owe for traffic (CoinTraffic).
import { t } from './i18n.js'
import { $, bytes, copyButton, el, fail, toast } from './ui.js'

let state

/** 毫 (BigInt or number) as Nuo with three decimals: 1500n → "1.500". */
export function nuo(milli) {
  const m = BigInt(milli ?? 0)
  const a = m < 0n ? -m : m
  return `${m < 0n ? '-' : ''}${a / 1000n}.${String(a % 1000n).padStart(3, '0')}`
}

/** "1.5" Nuo → 1500 毫; undefined when not a positive amount with at most three decimals. */
export function parseNuo(text) {
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(String(text).trim())
  if (!m) return undefined
  const milli = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'))
  return Number.isSafeInteger(milli) && milli > 0 ? milli : undefined
}

export function setupWallet(s) {
  state = s
  $('#send').addEventListener('submit', async (e) => {
    e.preventDefault()
    const form = new FormData(e.target)
    const to = String(form.get('to')).trim()
    const amount = parseNuo(form.get('amount'))
    if (amount === undefined) return fail(new Error(t('wallet.badAmount')))
    const button = e.target.querySelector('button')
    button.disabled = true
    try {
      await state.node.CoinTransfer(to, amount, String(form.get('memo') ?? ''))
      e.target.reset()
      toast(t('wallet.sent', nuo(amount), to))
      await renderWallet()
    } catch (err) {
      fail(err)
    } finally {
      button.disabled = false
    }
  })
}

const short = (id) => (id ? `${id.slice(0, 8)}…` : '')

export async function renderWallet() {
  const [info, history, traffic] = await Promise.all([
    state.node.CoinBalance(),
    state.node.CoinHistory(undefined, 0, 50),
    // A node without traffic meters (or without the row) answers with an error: the section stays hidden.
    state.me.owner ? state.node.call('CoinTraffic', [state.node.sid]).catch(() => null) : Promise.resolve(null),
  ])
  $('#wallet-balance').replaceChildren(
    ...[
      el('p.big', { id: 'balance' }, `${nuo(info.balance)} Nuo`),
      BigInt(info.pending) ? el('p.muted', { id: 'pending' }, t('wallet.pending', nuo(info.pending))) : null,
      el('div.kv', {}, el('span.k', {}, t('wallet.account')), el('span.v.mono', {}, info.account, copyButton(info.account))),
    ].filter(Boolean),
  )
  $('#history').replaceChildren(
    ...(history.length
      ? history.map((b) => {
          const sign = b.type === 'send' ? '-' : b.type === 'receive' ? '+' : ''
          const other = b.type === 'send' ? t('wallet.to', short(b.to)) : b.type === 'receive' ? t('wallet.from', short(b.source)) : t('wallet.opened')
          return el('tr', { dataset: { type: b.type } },
            el('td', {}, new Date(Number(b.time)).toLocaleString()),
            el('td', {}, t(`wallet.type.${b.type}`)),
            el('td.right.mono', {}, b.amount === undefined ? '' : `${sign}${nuo(b.amount)}`),
            el('td.mono', { title: b.to ?? b.source ?? '' }, other),
            el('td', {}, b.memo ?? ''),
            el('td.right.mono', {}, nuo(b.balance)))
        })
      : [el('tr', {}, el('td', { colspan: '6' }, t('wallet.nohistory')))]),
  )
  const box = $('#traffic-card')
  box.hidden = !traffic
  if (traffic) {
    $('#traffic').replaceChildren(
      ...(traffic.length
        ? traffic.map((p) => el('tr', { dataset: { peer: p.peer } },
            el('td.mono', { title: p.peer }, short(p.peer)),
            el('td.right', {}, bytes(p.served)),
            el('td.right', {}, bytes(p.received)),
            el('td.right.mono', {}, nuo(p.debt)),
            el('td.right.mono', {}, nuo(p.paid)),
            el('td', {}, t(`wallet.state.${p.state}`))))
        : [el('tr', {}, el('td', { colspan: '6' }, t('wallet.notraffic')))]),
    )
  }
}
