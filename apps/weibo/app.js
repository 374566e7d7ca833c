// Weibo's page: signs in, opens the store, then shows the screen the address names (#/home,
// #/u/<id>, #/p/<author>/<id>, #/tag/<t>, #/search?q=, #/dm, #/dm/<id>, #/notifications, #/me);
// live events from the store update the open screen and the unread badges. Never HTML of user data.
import { LeitherClient } from '/lib/leither.js'
import { translate } from './i18n.js'
import { appIdOfHost, Weibo } from './store.js'
import { $, toast } from './ui/dom.js'
import { chatView, conversationsView, meView, notificationsView } from './ui/inbox.js'
import { app } from './ui/state.js'
import { homeView, postView, searchView, tagView, userView } from './ui/views.js'

const node = new LeitherClient()
/** Unsubscribers of the open screen's live listeners, dropped when the screen changes. */
let screenListeners = []
let renders = 0

const live = (type, fn) => screenListeners.push(app.wb.on(type, (v) => Promise.resolve(fn(v)).catch((e) => console.warn(type, e))))

/** The screen of a hash: [tab, render(view)]. */
function route(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?')
  const parts = path.split('/').map((s) => decodeURIComponent(s))
  const q = new URLSearchParams(query)
  switch (parts[0]) {
    case 'u':
      if (parts[1]) return ['user', (v) => userView(v, parts[1], parts[2] || 'posts'), parts[1] === app.wb.me ? 'me' : '']
      break
    case 'p':
      if (parts[1] && parts[2]) return ['post', (v) => postView(v, parts[1], parts[2]), '']
      break
    case 'tag':
      if (parts[1]) return ['tag', (v) => tagView(v, parts[1]), 'search']
      break
    case 'search':
      return ['search', (v) => searchView(v, q.get('q') ?? ''), 'search']
    case 'dm':
      return parts[1] ? ['chat', (v) => chatView(v, parts[1], live), 'dm'] : ['dm', (v) => conversationsView(v), 'dm']
    case 'notifications':
      return ['notifications', (v) => notificationsView(v, live), 'notifications']
    case 'me':
      return ['me', (v) => meView(v), 'me']
  }
  return ['home', (v) => homeView(v, live), 'home']
}

async function show() {
  for (const off of screenListeners) off()
  screenListeners = []
  const [name, render, tab] = route(location.hash)
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('on', a.dataset.tab === tab)
  const view = $('view')
  document.body.dataset.shown = ''
  const n = ++renders
  try {
    await render(view)
  } catch (e) {
    toast(e?.message ?? String(e))
  }
  if (n !== renders) return
  window.scrollTo(0, 0)
  document.body.dataset.shown = name
  document.body.dataset.renders = String(n)
  performance.mark(`weibo-shown-${n}`)
}

function badge(id, count) {
  const b = $(id)
  b.textContent = count > 99 ? '99+' : String(count)
  b.hidden = !count
  b.dataset.count = String(count)
}

async function dmBadge() {
  const convs = await app.wb.conversations().catch(() => [])
  badge('dm-badge', convs.reduce((n, c) => n + (c.unread || 0), 0))
}

async function start() {
  translate()
  const appId = appIdOfHost(location.hostname)
  // Off its own origin (the node's /apps/weibo/) the page would run with the launcher's session: it refuses.
  if (!appId || !(await node.signIn())) {
    $('signin').hidden = false
    document.body.dataset.ready = '0'
    return
  }
  app.wb = new Weibo(node, appId)
  // The page's state on window, for the browser's console (and the tests and benches that drive it).
  globalThis.weibo = app
  await app.wb.open()
  app.remember(await app.wb.profile())
  $('private').hidden = app.wb.readable !== false
  $('tabs').hidden = false
  app.wb.on('unread', ({ count }) => badge('badge', count))
  app.wb.on('dm', () => {
    if (!location.hash.startsWith('#/dm/')) dmBadge()
  })
  badge('badge', await app.wb.unreadCount())
  dmBadge()
  window.addEventListener('hashchange', show)
  await show()
  document.body.dataset.ready = '1'
}

start().catch((e) => {
  toast(e?.message ?? String(e))
  document.body.dataset.ready = 'error'
})
