// The launcher's entry: signs the page in (a one-time code from `leither open`), then shows the
// tabs: apps, wallet, this node, users (the owner's). Everything goes through /lib/leither.js.
import { LeitherClient } from '/lib/leither.js'
import { t, translate } from './i18n.js'
import { $, bytes, copyButton, duration, el, fail } from './ui.js'
import { renderApps, setupApps } from './apps.js'
import { setupInstall } from './install.js'
import { renderUsers, setupUsers } from './users.js'
import { renderWallet, setupWallet } from './wallet.js'

const node = new LeitherClient()
/** What the page knows about its user and node, shared with the other modules. */
export const state = { node, me: null, port: Number(location.port || 80), nodeaddrs: [] }

translate()

async function signIn() {
  try {
    return await node.signIn()
  } catch (err) {
    // A used or expired code: say so on the sign-in card.
    const note = $('#signin-note')
    note.hidden = false
    note.textContent = `${t('signin.expired')} (${err.message})`
    return false
  }
}

function showSignIn() {
  $('#loading').hidden = true
  $('#signin').hidden = false
  $('#other-cmd').textContent = `leither open --node ${location.origin}`
}

const TABS = ['apps', 'wallet', 'node', 'users']

function showTab() {
  let tab = location.hash.slice(1)
  if (!TABS.includes(tab) || (tab === 'users' && !state.me?.owner)) tab = 'apps'
  for (const name of TABS) $(`#view-${name}`).hidden = name !== tab
  for (const a of document.querySelectorAll('[data-tab]')) a.classList.toggle('on', a.dataset.tab === tab)
  if (tab === 'apps') renderApps().catch(fail)
  if (tab === 'wallet') renderWallet().catch(fail)
  if (tab === 'node') renderNode().catch(fail)
  if (tab === 'users') renderUsers().catch(fail)
}

/** A labelled value row; long ids get a copy button. */
const row = (label, value, copy = false) => el('div.kv', {}, el('span.k', {}, label), el('span.v', {}, value, copy && value ? copyButton(value) : null))

async function renderNode() {
  const box = $('#node-cards')
  const [info, peers, users] = await Promise.all([
    node.SysInfo().catch(() => ({})),
    node.SwarmPeers().catch(() => []),
    state.me.owner ? node.UserList().catch(() => []) : Promise.resolve([]),
  ])
  state.nodeaddrs = (await node.GetVar('nodeaddrs').catch(() => [])) ?? []
  const mine = users.find((u) => u.userId === state.me.userid)
  const used = users.reduce((sum, u) => sum + Number(u.usage?.total ?? 0), 0)
  const quota = mine ? (Number(mine.quotaBytes) ? t('node.quota', bytes(mine.quotaBytes)) : t('node.unlimited')) : ''
  const pct = mine && Number(mine.quotaBytes) ? Math.min(100, (Number(mine.usage?.total ?? 0) / Number(mine.quotaBytes)) * 100) : 0
  box.replaceChildren(
    el('div.card', {}, el('h2', {}, t('node.status')),
      row(t('node.version'), info.ver ?? ''),
      row(t('node.id'), info.nodeid ?? '', true),
      row(t('node.peer'), info.peerid ?? '', true),
      row(t('node.uptime'), duration(info.uptimeSec)),
      row(t('node.platform'), [info.platform, info.arch, info.runtime].filter(Boolean).join(' · '))),
    el('div.card', {}, el('h2', {}, t('node.storage')),
      el('p.big', { id: 'storage-used' }, t('node.used', bytes(state.me.owner ? used : mine?.usage?.total)), ' ', el('span.muted', {}, quota)),
      el('div.meter', {}, el('div', { style: `width:${pct.toFixed(1)}%` })),
      users.length ? el('p.muted', {}, t('node.users', users.length)) : null),
    el('div.card', {}, el('h2', {}, t('node.addrs')),
      el('ul.mono', {}, el('li', {}, location.origin), state.nodeaddrs.map((a) => el('li', {}, a)))),
    el('div.card', {}, el('h2', {}, `${t('node.peers')} (${peers.length})`),
      peers.length
        ? el('ul.mono', { id: 'peers' }, peers.map((p) => el('li', {}, `${p.peer}${p.latencyMs != null ? ` · ${p.latencyMs} ms` : ''}${p.relayed ? ' · relay' : ''}`)))
        : el('p.muted', {}, t('node.nopeers'))),
  )
}

async function main() {
  if (!(await signIn())) return showSignIn()
  const who = await node.WhoAmI()
  state.me = { userid: who.userid, owner: who.kind === 'owner', kind: who.kind }
  state.port = Number((await node.GetVar('port').catch(() => null)) ?? state.port)
  $('#loading').hidden = true
  $('#tabs').hidden = false
  $('#me').hidden = false
  $('#tab-users').hidden = !state.me.owner
  $('#tab-monitor').hidden = !state.me.owner
  $('#who').textContent = `${state.me.owner ? t('owner') : t('user')} · ${who.userid.slice(0, 8)}…`
  $('#who').title = who.userid
  $('#signout').addEventListener('click', async () => {
    await node.Logout().catch(() => {})
    sessionStorage.removeItem('leither.sid')
    location.hash = ''
    location.reload()
  })
  setupApps(state)
  setupInstall(state)
  setupUsers(state)
  setupWallet(state)
  addEventListener('hashchange', showTab)
  showTab()
  document.body.dataset.ready = '1'
  performance.mark('leither-ready')
}

main().catch((err) => {
  fail(err)
  showSignIn()
})
