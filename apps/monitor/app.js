// The monitor page: pick nodes and a day → every request with count, errors and response times,
// sortable by each column; a row's trend over days or the day's hours. Calls go through /lib/leither.js.
import { LeitherClient } from '/lib/leither.js'
import { drawChart, ms } from './chart.js'
import { t, translate } from './i18n.js'

const node = new LeitherClient()
const $ = (sel) => document.querySelector(sel)
const DAY_MS = 86_400_000
const STORE = 'leither.monitor.nodes'
const COLS = [
  { key: 'node', num: false },
  { key: 'kind', num: false },
  { key: 'name', num: false },
  { key: 'count', num: true },
  { key: 'errors', num: true },
  { key: 'avgMs', num: true },
  { key: 'p95Ms', num: true },
  { key: 'maxMs', num: true },
]

const state = {
  rows: [],
  sort: 'count',
  desc: true,
  /** Other nodes the user added: [{url, on}]; this node is always asked. */
  others: JSON.parse(localStorage.getItem(STORE) ?? '[]'),
  trend: null,
  trendMode: 'days',
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
    else if (k === 'dataset') Object.assign(e.dataset, v)
    else e.setAttribute(k, v === true ? '' : String(v))
  }
  e.append(...children.flat().filter((c) => c !== null && c !== undefined))
  return e
}

let toastTimer
function toast(text) {
  const box = $('#toast')
  box.textContent = text
  box.className = 'toast show'
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => (box.className = 'toast'), 8000)
}

const hostOf = (url) => (url === '' ? t('nodes.self') : url.replace(/^https?:\/\//, ''))
const dayOf = (ms) => new Date(ms).toISOString().slice(0, 10)

function renderNodes() {
  const list = $('#node-list')
  const chip = (label, attrs) => el('label', { class: 'chip' }, el('input', { type: 'checkbox', ...attrs }), label)
  list.replaceChildren(
    chip(t('nodes.self'), { checked: true, disabled: true }),
    ...state.others.map((n, i) =>
      el('span', { class: 'chip-wrap' },
        chip(hostOf(n.url), { checked: n.on, onchange: (e) => ((n.on = e.target.checked), save(), load()) }),
        el('button', { type: 'button', class: 'x', 'aria-label': 'remove', onclick: () => (state.others.splice(i, 1), save(), renderNodes(), load()) }, '✕')),
    ),
  )
}

const save = () => localStorage.setItem(STORE, JSON.stringify(state.others))

/** MonitorStats of one node ('' = this one); another node is asked by this node, with the owner's key. */
const statsOf = (url, opts) => node.MonitorStats(url ? { ...opts, node: url } : opts)

async function load() {
  const day = $('#day').value
  const kind = $('#kind').value || undefined
  const urls = ['', ...state.others.filter((n) => n.on).map((n) => n.url)]
  const parts = await Promise.allSettled(urls.map((u) => statsOf(u, { day, kind })))
  state.rows = []
  parts.forEach((p, i) => {
    if (p.status === 'fulfilled') state.rows.push(...p.value.map((r) => ({ ...r, node: urls[i] })))
    else toast(t('failed', hostOf(urls[i]), p.reason?.message ?? String(p.reason)))
  })
  state.asked = urls.length
  renderTable()
  if (state.trend) await showTrend(state.trend)
}

function sortRows() {
  const { sort, desc } = state
  const col = COLS.find((c) => c.key === sort)
  state.rows.sort((a, b) => {
    const d = col.num ? a[sort] - b[sort] : String(a[sort]).localeCompare(String(b[sort]))
    return (desc ? -d : d) || a.name.localeCompare(b.name)
  })
}

function renderTable() {
  const many = state.asked > 1
  const cols = COLS.filter((c) => c.key !== 'node' || many)
  $('#head').replaceChildren(
    ...cols.map((c) =>
      el('th', { class: c.num ? 'num' : '', 'aria-sort': state.sort === c.key ? (state.desc ? 'descending' : 'ascending') : undefined },
        el('button', { type: 'button', dataset: { sort: c.key }, onclick: () => sortBy(c.key) }, t(`col.${c.key}`), state.sort === c.key ? (state.desc ? ' ↓' : ' ↑') : '')),
    ),
  )
  sortRows()
  $('#rows').replaceChildren(
    ...state.rows.map((r) =>
      el('tr', { tabindex: 0, dataset: { name: r.name, node: r.node }, class: state.trend && sameRow(state.trend, r) ? 'on' : '', onclick: () => showTrend(r), onkeydown: (e) => e.key === 'Enter' && showTrend(r) },
        cols.map((c) => {
          const v = r[c.key]
          const text = c.key === 'node' ? hostOf(v) : c.key.endsWith('Ms') ? ms(v) : String(v)
          return el('td', { class: `${c.num ? 'num' : ''}${c.key === 'errors' && v > 0 ? ' bad' : ''}${c.key === 'name' ? ' name' : ''}` }, text)
        })),
    ),
  )
  const calls = state.rows.reduce((n, r) => n + r.count, 0)
  $('#summary').textContent = t('summary', state.rows.length, calls, state.asked)
  $('#empty').hidden = state.rows.length > 0
}

function sortBy(key) {
  state.desc = state.sort === key ? !state.desc : COLS.find((c) => c.key === key).num
  state.sort = key
  renderTable()
}

const sameRow = (a, b) => a.node === b.node && a.kind === b.kind && a.name === b.name

/** The trend of one request: its average and maximum per day (30 days to the chosen one) or per hour of the day. */
async function showTrend(row) {
  state.trend = row
  const day = $('#day').value
  const end = Date.parse(`${day}T00:00:00Z`) + DAY_MS
  const byDay = state.trendMode === 'days'
  const opts = byDay
    ? { from: dayOf(end - 30 * DAY_MS), to: dayOf(end), granularity: 'day', kind: row.kind, name: row.name }
    : { day, granularity: 'hour', kind: row.kind, name: row.name }
  const got = await statsOf(row.node, opts)
  const step = byDay ? DAY_MS : 3_600_000
  const first = byDay ? end - 30 * DAY_MS : end - DAY_MS
  const points = Array.from({ length: byDay ? 30 : 24 }, (_, i) => {
    const start = first + i * step
    const r = got.find((g) => g.start === start)
    const label = byDay ? dayOf(start).slice(5) : `${String(i).padStart(2, '0')}h`
    return { start, label, count: r?.count ?? 0, errors: r?.errors ?? 0, avgMs: r?.avgMs ?? 0, maxMs: r?.maxMs ?? 0 }
  })
  $('#trend').hidden = false
  $('#trend-title').textContent = `${row.name}${state.asked > 1 ? ` · ${hostOf(row.node)}` : ''}`
  $('#trend-days').classList.toggle('on', byDay)
  $('#trend-hours').classList.toggle('on', !byDay)
  state.points = points
  drawChart($('#chart'), points, { avg: t('avg'), max: t('max') })
  for (const tr of document.querySelectorAll('#rows tr')) tr.classList.toggle('on', tr.dataset.name === row.name && tr.dataset.node === row.node)
}

function setup() {
  const day = $('#day')
  day.value = new Date().toISOString().slice(0, 10)
  day.addEventListener('change', () => load().catch(failed))
  $('#kind').addEventListener('change', () => load().catch(failed))
  $('#controls').addEventListener('submit', (e) => e.preventDefault())
  $('#node-add').addEventListener('click', () => {
    const input = $('#node-url')
    const url = input.value.trim().replace(/\/$/, '')
    if (!/^https?:\/\/[^/\s]+$/.test(url)) return toast(`${url}: http://host:port`)
    if (!state.others.some((n) => n.url === url)) state.others.push({ url, on: true })
    input.value = ''
    save()
    renderNodes()
    load().catch(failed)
  })
  for (const [id, mode] of [['#trend-days', 'days'], ['#trend-hours', 'hours']]) {
    $(id).addEventListener('click', () => {
      state.trendMode = mode
      if (state.trend) showTrend(state.trend).catch(failed)
    })
  }
  // The chart is drawn to the width of its box: again when the window changes size.
  let resized
  addEventListener('resize', () => {
    clearTimeout(resized)
    resized = setTimeout(() => state.trend && drawChart($('#chart'), state.points, { avg: t('avg'), max: t('max') }), 100)
  })
  $('#trend-close').addEventListener('click', () => {
    state.trend = null
    $('#trend').hidden = true
    renderTable()
  })
}

const failed = (err) => {
  console.error(err)
  toast(err?.message ?? String(err))
}

async function main() {
  translate()
  if (!(await node.signIn().catch(() => false))) {
    $('#loading').hidden = true
    $('#signin').hidden = false
    return
  }
  const who = await node.WhoAmI()
  $('#who').textContent = `${who.kind} · ${who.userid.slice(0, 8)}…`
  setup()
  renderNodes()
  $('#loading').hidden = true
  $('#view').hidden = false
  await load()
  document.body.dataset.ready = '1'
}

main().catch((err) => {
  failed(err)
  $('#loading').hidden = true
})
