// The personal screens: notifications (marked read when seen), direct messages (conversations and
// one conversation, end-to-end encrypted by the store) and the profile form.
import { t } from '../i18n.js'
import { MAX_POST } from '../store.js'
import { prepareImage } from './compose.js'
import { action, avatar, el, iconLabel, nameOf, toast, when } from './dom.js'
import { app } from './state.js'

function noteLink(n) {
  if (n.kind === 'dm') return `#/dm/${encodeURIComponent(n.from?.id)}`
  if (n.kind === 'follow' || !n.post) return `#/u/${encodeURIComponent(n.from?.id)}`
  return `#/p/${encodeURIComponent(n.post.author)}/${encodeURIComponent(n.post.id)}`
}

export async function notificationsView(view, live) {
  // New ones while the screen is open: drawn again (and marked read).
  live?.('notification', () => drawNotifications(view))
  await drawNotifications(view)
}

async function drawNotifications(view) {
  const list = await app.wb.notifications({ limit: 100 })
  const items = list.map((n) => {
    app.remember(n.from)
    return el(
      'li',
      { className: n.read ? '' : 'unread', dataset: { kind: n.kind, from: n.from?.id ?? '' } },
      el('a', { href: `#/u/${encodeURIComponent(n.from?.id)}` }, avatar(n.from, 36)),
      el('a', { className: 'grow', href: noteLink(n) }, el('div', { className: 'what', textContent: t(`n.${n.kind}`, nameOf(n.from)) }), n.text && n.kind !== 'dm' ? el('div', { className: 'excerpt', textContent: n.text }) : undefined, el('div', { className: 'small muted', textContent: when(n.at) })),
    )
  })
  if (!location.hash.startsWith('#/notifications')) return
  view.replaceChildren(el('section', { className: 'card' }, el('h2', { textContent: t('notifications') }), items.length ? el('ul', { className: 'notes', id: 'notes' }, items) : el('p', { className: 'muted', id: 'notes', textContent: t('noNotifications') })))
  // Seen: the badge goes; the list keeps its highlight until the next visit.
  if (list.some((n) => !n.read)) await app.wb.markRead()
}

export async function conversationsView(view) {
  const convs = await app.wb.conversations()
  const items = convs.map((c) => {
    app.remember(c.peer)
    const li = el(
      'li',
      { dataset: { peer: c.peer.id } },
      avatar(c.peer, 40),
      el('div', { className: 'grow' }, el('div', { className: 'who', textContent: nameOf(c.peer) }), el('div', { className: 'small muted', textContent: `${c.last?.mine ? `${t('you')}: ` : ''}${c.last?.text ?? ''}` })),
      c.unread ? el('span', { className: 'badge', textContent: String(c.unread) }) : undefined,
    )
    li.addEventListener('click', () => (location.hash = `#/dm/${encodeURIComponent(c.peer.id)}`))
    return li
  })
  view.replaceChildren(el('section', { className: 'card' }, el('h2', { textContent: t('messages') }), items.length ? el('ul', { className: 'people convs', id: 'convs' }, items) : el('p', { className: 'muted', textContent: t('noConversations') })))
}

function bubble(m) {
  return el('div', { className: `bubble${m.mine ? ' mine' : ''}`, dataset: { msg: m.id ?? '' } }, el('span', { className: 'body', textContent: m.text }), el('span', { className: 'meta', textContent: when(m.at) }))
}

/** One conversation: messages oldest first, a form to write; a message that arrives is added live. */
export async function chatView(view, peerId, live) {
  const [peer, msgs] = await Promise.all([app.wb.profile(peerId), app.wb.conversation(peerId)])
  app.remember(peer)
  const chat = el('div', { className: 'chat', id: 'chat', dataset: { peer: peerId } }, msgs.map(bubble))
  const input = el('textarea', { rows: 2, placeholder: t('dmPh'), maxLength: MAX_POST })
  const send = el('button', { type: 'submit', textContent: t('send') })
  const form = el('form', { id: 'dm-form' }, input, el('div', { className: 'row' }, iconLabel(el('span', { className: 'small muted e2e' }), 'lock', t('e2e')), send))
  const seen = new Set(msgs.map((m) => m.id))
  const add = (m) => {
    if (m.id && seen.has(m.id)) return
    seen.add(m.id)
    chat.append(bubble(m))
    chat.scrollTop = chat.scrollHeight
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const text = input.value.trim()
    if (!text) return
    send.disabled = true
    try {
      const id = await app.wb.sendDM(peerId, text)
      add({ id: typeof id === 'string' ? id : undefined, at: Date.now(), text, mine: true })
      input.value = ''
    } catch (err) {
      toast(err?.message ?? String(err))
    } finally {
      send.disabled = false
    }
  })
  input.addEventListener('keydown', (e) => e.key === 'Enter' && !e.shiftKey && (e.preventDefault(), form.requestSubmit()))
  live('dm', (m) => {
    if (m.peer === peerId || m.peer?.id === peerId) add(m)
  })
  view.replaceChildren(el('section', { className: 'card' }, el('div', { className: 'row' }, el('a', { href: '#/dm', textContent: `← ${t('back')}` }), el('a', { className: 'who', href: `#/u/${encodeURIComponent(peerId)}` }, avatar(peer, 28), ' ', nameOf(peer))), chat, form))
  chat.scrollTop = chat.scrollHeight
}

/** My profile: name, bio and avatar, my user id (to share), and a link to my page. */
export async function meView(view) {
  const p = await app.wb.profile()
  let picked
  const name = el('input', { name: 'name', maxLength: 60, value: p.name })
  const bio = el('textarea', { name: 'bio', rows: 3, maxLength: 300, value: p.bio })
  const face = el('span', { className: 'face' }, avatar(p, 64))
  const file = el('input', { type: 'file', accept: 'image/*', hidden: true, name: 'avatar' })
  const choose = el('button', { type: 'button', className: 'plain', textContent: t('chooseAvatar') })
  choose.addEventListener('click', () => file.click())
  file.addEventListener('change', async () => {
    const f = file.files[0]
    if (!f) return
    try {
      picked = (await prepareImage(f)).thumb
      face.replaceChildren(el('span', { className: 'avatar', style: 'width:64px;height:64px' }, el('img', { src: URL.createObjectURL(new Blob([picked.bytes], { type: picked.type })), alt: '' })))
    } catch {
      toast(t('badImage', f.name))
    }
  })
  const form = el(
    'form',
    { id: 'profile-form' },
    el('label', {}, el('span', { textContent: t('avatar') }), el('span', { className: 'row', style: 'justify-content:flex-start' }, face, choose, file)),
    el('label', {}, el('span', { textContent: t('name') }), name),
    el('label', {}, el('span', { textContent: t('bio') }), bio),
    el('button', { textContent: t('save') }),
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    try {
      await app.wb.setProfile(name.value, bio.value, picked ? { data: picked.bytes, type: picked.type } : undefined)
      app.remember({ id: app.wb.me, name: name.value })
      toast(t('saved'))
    } catch (err) {
      toast(err?.message ?? String(err))
    }
  })
  const copy = action(el('button', { type: 'button', className: 'plain', textContent: t('copy') }), async () => {
    await navigator.clipboard?.writeText(app.wb.me)
    toast(t('copied'))
  })
  view.replaceChildren(
    el('section', { className: 'card' }, el('h2', {}, el('a', { href: `#/u/${encodeURIComponent(app.wb.me)}`, textContent: `${nameOf(p)} →` })), form),
    el('section', { className: 'card' }, el('div', { className: 'small muted', textContent: t('myId') }), el('div', { className: 'row' }, el('code', { id: 'my-id', textContent: app.wb.me }), copy)),
  )
}
