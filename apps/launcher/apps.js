// The app grid: open an app (a one-time code for its own origin), its details and permissions
// (AppGrants / AppGrant / AppRevoke, with the spending limit of coin.transfer), uninstall, and "save to desktop" (the shortcut file).
import { t } from './i18n.js'
import { $, bytes, copyButton, el, fail, hue, showDialog, toast } from './ui.js'
import { nuo } from './wallet.js'

let state
const CAPS = ['mimei', 'user.sign', 'msg', 'msg.send', 'net', 'coin.transfer']

export function setupApps(s) {
  state = s
}

/** Opens the app in a new tab, signed in as the launcher's user: SessionCode for its origin. */
export async function openApp(app) {
  // The tab is opened now, while the click still counts as one, and sent on once the code is here.
  const tab = window.open('about:blank', '_blank')
  try {
    toast(t('apps.opening', app.name))
    const { url } = await state.node.SessionCode(app.id)
    if (tab) {
      tab.opener = null
      tab.location.href = url
    } else location.href = url
  } catch (err) {
    tab?.close()
    fail(err)
  }
}

function icon(app) {
  const letter = el('span.letter', { style: `--h:${hue(app.id)}` }, (app.name[0] ?? '?').toUpperCase())
  if (!app.icon) return el('div.icon', {}, letter)
  const img = el('img', { src: new URL(app.icon, app.url).href, alt: '', loading: 'lazy' })
  img.addEventListener('error', () => img.replaceWith(letter))
  return el('div.icon', {}, img)
}

export async function renderApps() {
  const [apps, grants] = await Promise.all([state.node.AppList(), state.node.AppGrants().catch(() => ({}))])
  state.apps = apps
  state.grants = grants ?? {}
  $('#empty').hidden = apps.length > 0
  $('#grid').replaceChildren(
    ...apps.map((app) =>
      el('div.tile', { dataset: { app: app.id } },
        el('button.open', { type: 'button', title: t('apps.open'), onclick: () => openApp(app) }, icon(app), el('span.name', {}, app.name), el('span.ver', {}, app.version)),
        el('button.more', { type: 'button', title: t('apps.more'), 'aria-label': t('apps.more'), onclick: () => showApp(app).catch(fail) }, '⋯'),
      ),
    ),
  )
}

const grantedOf = (appId) => new Set((state.grants?.[appId] ?? []).map((g) => g.capability))

/** The app's permissions: what it asks for (with its reasons) and what is granted, as switches. */
function permissionList(app) {
  const asked = new Map(app.permissions.map((p) => [p.name, p.reason]))
  const granted = grantedOf(app.id)
  const names = CAPS.filter((c) => asked.has(c) || granted.has(c))
  if (!names.length) return el('p.muted', {}, t('perm.none'))
  return el('ul.perms', {}, names.map((cap) => {
    const box = el('input', { type: 'checkbox', dataset: { cap }, checked: granted.has(cap) })
    box.addEventListener('change', async () => {
      box.disabled = true
      try {
        if (box.checked) await state.node.AppGrant(app.id, [cap])
        else await state.node.AppRevoke(app.id, cap)
        state.grants = (await state.node.AppGrants()) ?? {}
        toast(t(box.checked ? 'app.granted' : 'app.revoked', cap))
        if (cap === 'coin.transfer') box.closest('ul.perms')?.replaceWith(permissionList(app)) // shows or hides its limit
      } catch (err) {
        box.checked = !box.checked
        fail(err)
      } finally {
        box.disabled = false
      }
    })
    return el('li', {}, el('label.switch', {}, box, el('span.slider'), el('span.perm', {}, el('b', {}, t(`cap.${cap}`)), el('small', {}, cap), asked.has(cap) ? el('small.reason', {}, t('app.asks', asked.get(cap))) : null)),
      cap === 'coin.transfer' && granted.has(cap) ? spendingLimit(app) : null)
  }))
}

/** What the app may still spend of the user's Nuo (coin.transfer's limit), and a form to set it. */
function spendingLimit(app) {
  const limit = state.grants?.[app.id]?.find((g) => g.capability === 'coin.transfer')?.limit
  const shown = el('small', { id: 'limit-left' }, limit === null || limit === undefined ? t('limit.none') : t('limit.left', nuo(limit)))
  const input = el('input', { name: 'limit', required: true, inputmode: 'decimal', pattern: '\\d+(\\.\\d{1,3})?', placeholder: t('limit.ph'), autocomplete: 'off' })
  const form = el('form', { id: 'limit-form' }, input, el('button.ghost.small', { type: 'submit' }, t('limit.set')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const [whole, frac = ''] = input.value.trim().split('.')
    const milli = Number(whole) * 1000 + Number(frac.padEnd(3, '0'))
    try {
      await state.node.AppGrant(app.id, ['coin.transfer'], milli)
      state.grants = (await state.node.AppGrants()) ?? {}
      shown.textContent = t('limit.left', nuo(milli))
      input.value = ''
      toast(t('limit.done', app.name, nuo(milli)))
    } catch (err) {
      fail(err)
    }
  })
  return el('div.limit', {}, shown, form)
}

async function showApp(app) {
  state.grants = (await state.node.AppGrants().catch(() => state.grants)) ?? {}
  const dlg = $('#app-dlg')
  $('#app-title').replaceChildren(icon(app), el('span', {}, app.name))
  const keep = el('input', { type: 'checkbox', id: 'keep-data' })
  $('#app-body').replaceChildren(
    app.description ? el('p', {}, app.description) : '',
    el('div.kv', {}, el('span.k', {}, t('app.version')), el('span.v', {}, app.version)),
    el('div.kv', {}, el('span.k', {}, t('app.id')), el('span.v.mono', {}, app.id, copyButton(app.id))),
    el('div.kv', {}, el('span.k', {}, t('app.author')), el('span.v.mono', {}, app.author)),
    el('div.kv', {}, el('span.k', {}, t('app.size')), el('span.v', {}, bytes(app.size))),
    el('h3', {}, t('app.perms')),
    permissionList(app),
    el('div.actions.spread', {},
      el('button.ghost', { type: 'button', id: 'shortcut', onclick: () => saveShortcut(app).catch(fail) }, '⤓ ', t('app.shortcut')),
      el('button.primary', { type: 'button', onclick: () => { dlg.close(); openApp(app) } }, t('apps.open'))),
    el('div.zone', {}, el('label', {}, keep, ' ', t('app.keep')),
      el('button.danger', { type: 'button', id: 'uninstall', onclick: () => uninstall(app, keep.checked).catch(fail) }, t('app.uninstall'))),
  )
  await showDialog(dlg)
}

async function uninstall(app, keepData) {
  if (!confirm(t('app.confirmUninstall', app.name))) return
  await state.node.UninstallApp(app.id, keepData)
  $('#app-dlg').close()
  toast(t('app.removed', app.name))
  await renderApps()
}

const loopback = (h) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]'

/** The node's HTTP addresses, loopback first, then this page's and the LAN hosts of its libp2p addresses. */
export function shortcutAddrs() {
  const out = [`http://127.0.0.1:${state.port}`]
  if (!loopback(location.hostname)) out.push(location.origin)
  for (const a of state.nodeaddrs ?? []) {
    const m = /^\/ip4\/([\d.]+)\/tcp\/\d+(?:\/p2p\/[^/]+)?$/.exec(a)
    if (m && !m[1].startsWith('127.')) out.push(`http://${m[1]}:${state.port}`)
  }
  return [...new Set(out)]
}

/** Builds the shortcut from the same template as `leither app shortcut` and downloads it. */
export async function saveShortcut(app) {
  if (!state.nodeaddrs?.length) state.nodeaddrs = (await state.node.GetVar('nodeaddrs').catch(() => [])) ?? []
  const template = await (await fetch('/apps/launcher/shortcut.html')).text()
  const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  const fill = (addrs) => template.replace('__TITLE__', () => escape(app.name)).replace('"__LEITHER_SHORTCUT__"', () => JSON.stringify({ name: app.name, app: app.id, addrs }).replace(/</g, '\\u003c'))
  // At most 8 KB: the last addresses give way first.
  const addrs = shortcutAddrs()
  let html = fill(addrs)
  while (new Blob([html]).size > 8192 && addrs.length > 1) {
    addrs.pop()
    html = fill(addrs)
  }
  const file = `${app.name}.html`
  const a = el('a', { href: URL.createObjectURL(new Blob([html], { type: 'text/html' })), download: file })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
  toast(t('app.shortcutDone', file))
}
