// Weibo's page: signs in, then shows the home timeline, the user's own posts, people to follow and
// the profile form. Every write goes to the user's own data area (store.js); text is never parsed as HTML.
import { LeitherClient } from '/lib/leither.js'
import { lang, t, translate } from './i18n.js'
import { appIdOfHost, MAX_POST, Weibo } from './store.js'

const $ = (id) => document.getElementById(id)
const node = new LeitherClient()
let wb
let tab = 'home'

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props)
  for (const c of children) e.append(c)
  return e
}

function toast(text) {
  const box = $('toast')
  box.textContent = text
  box.hidden = false
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => (box.hidden = true), 2500)
}

const when = (at) => new Date(at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'medium', timeStyle: 'short' })

async function renderFeed(list, posts) {
  const likes = await wb.myLikes()
  const counts = await Promise.all(posts.map((p) => wb.likeCount(p.author.id, p.id)))
  list.replaceChildren()
  if (!posts.length) list.append(el('li', { className: 'muted', textContent: t('empty') }))
  posts.forEach((p, i) => {
    const key = `${p.author.id}/${p.id}`
    const on = likes.has(key)
    const like = el('button', { className: `plain like${on ? ' on' : ''}`, textContent: `${on ? t('liked') : t('like')} ${counts[i]}` })
    like.dataset.count = String(counts[i])
    like.addEventListener('click', async () => {
      await wb.like(p.author.id, p.id, !on)
      await show()
    })
    const item = el(
      'li',
      {},
      el('div', {}, el('span', { className: 'who', textContent: p.author.name || t('noname') }), el('span', { className: 'when', textContent: when(p.at) })),
      el('div', { className: 'text', textContent: p.text }),
      like,
    )
    item.dataset.post = key
    list.append(item)
  })
}

async function renderPeople() {
  const following = new Set(await wb.following())
  const ids = [...new Set([...(await wb.users()), ...following])].filter((u) => u !== wb.me)
  const profiles = await Promise.all(ids.map((u) => wb.profile(u)))
  $('people').replaceChildren(
    ...profiles.map((p) => {
      const on = following.has(p.id)
      const b = el('button', { className: on ? 'plain' : '', textContent: on ? t('unfollow') : t('follow') })
      b.addEventListener('click', async () => {
        await (on ? wb.unfollow(p.id) : wb.follow(p.id))
        await show()
      })
      const li = el('li', {}, el('div', {}, el('div', { textContent: p.name || t('noname') }), el('div', { className: 'id', textContent: p.id }), el('div', { className: 'small muted', textContent: p.bio })), b)
      li.dataset.user = p.id
      return li
    }),
  )
}

async function show() {
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('on', a.dataset.tab === tab)
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${tab}`
  $('compose').hidden = tab !== 'home' && tab !== 'mine'
  if (tab === 'home') await renderFeed($('home-feed'), await wb.home())
  if (tab === 'mine') await renderFeed($('mine-feed'), await wb.posts(wb.me))
  if (tab === 'people') await renderPeople()
  if (tab === 'profile') {
    const p = await wb.profile()
    $('profile-form').elements.name.value = p.name
    $('profile-form').elements.bio.value = p.bio
    $('my-id').textContent = wb.me
  }
  document.body.dataset.shown = tab
}

function counter() {
  const n = $('text').value.length
  $('count').textContent = t('count', n, MAX_POST)
  $('count').classList.toggle('over', n > MAX_POST)
  $('post').disabled = n === 0 || n > MAX_POST
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
  wb = new Weibo(node, appId)
  await wb.open()
  $('private').hidden = wb.readable
  $('tabs').hidden = false
  for (const a of document.querySelectorAll('#tabs a')) {
    a.addEventListener('click', (e) => {
      e.preventDefault()
      tab = a.dataset.tab
      show()
    })
  }
  $('text').addEventListener('input', counter)
  $('post').addEventListener('click', async () => {
    try {
      await wb.post($('text').value)
      $('text').value = ''
      counter()
      toast(t('posted'))
      await show()
    } catch (e) {
      toast(e.message.startsWith('too long') ? t('tooLong', $('text').value.length, MAX_POST) : e.message)
    }
  })
  $('profile-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const f = e.target.elements
    try {
      await wb.setProfile(f.name.value, f.bio.value)
      toast(t('saved'))
    } catch (err) {
      toast(err.message)
    }
  })
  $('follow-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    try {
      await wb.follow(e.target.elements.user.value.trim())
      e.target.reset()
      await show()
    } catch (err) {
      toast(err.message)
    }
  })
  counter()
  await show()
  document.body.dataset.ready = '1'
}

start().catch((e) => {
  toast(e.message)
  document.body.dataset.ready = 'error'
})
