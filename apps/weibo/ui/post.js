// A post as a card: author, time, text with links, pictures (thumbnails; a click shows the full
// picture), the reposted post with the chain of comments, and like / comment / repost / delete.
import { t } from '../i18n.js'
import { openComments } from './comments.js'
import { composer } from './compose.js'
import { action, avatar, el, iconLabel, nameOf, richText, toast, when } from './dom.js'
import { app } from './state.js'

/** The key of a post in the page (and in data-post): author/id. */
export const keyOf = (p) => `${p.author?.id ?? p.author}/${p.id}`
const authorId = (p) => p.author?.id ?? p.author

function pictures(author, images) {
  if (!images?.length) return undefined
  const box = el('div', { className: `pics${images.length === 1 ? ' one' : ''}` })
  images.forEach((img, i) => {
    const pic = el('img', { alt: '', loading: 'lazy', dataset: { i: String(i) } })
    app.wb
      .imageUrl(author, img.thumb || img.cid)
      .then((url) => (pic.src = url))
      .catch(() => pic.classList.add('broken'))
    pic.addEventListener('click', async () => {
      const full = el('img', { className: 'full', alt: '' })
      showDialog(full)
      full.src = await app.wb.imageUrl(author, img.cid).catch(() => pic.src)
    })
    box.append(pic)
  })
  return box
}

/** Shows nodes in the page's dialog; a click outside closes it. */
export function showDialog(...nodes) {
  const d = document.getElementById('dialog')
  document.getElementById('dialog-body').replaceChildren(...nodes)
  if (!d.open) d.showModal()
  d.onclick = (e) => {
    if (e.target === d) d.close()
  }
  return d
}

function authorLine(p, small = false) {
  const a = p.author ?? {}
  return el(
    'div',
    { className: 'post-head' },
    small ? undefined : el('a', { href: `#/u/${encodeURIComponent(a.id)}`, tabIndex: -1 }, avatar(a, 40)),
    el('div', {}, el('a', { className: 'who', href: `#/u/${encodeURIComponent(a.id)}`, textContent: small ? `@${nameOf(a)}` : nameOf(a) }), small ? undefined : el('a', { className: 'when', href: `#/p/${encodeURIComponent(a.id)}/${encodeURIComponent(p.id)}`, textContent: when(p.at) })),
  )
}

/** The reposted post inside a repost (its author, text and pictures), or a line saying it is gone. */
function origin(o) {
  if (!o || o.deleted) return el('div', { className: 'origin muted', dataset: { origin: o ? keyOf(o) : '' }, textContent: o?.deleted ? t('deleted') : t('unavailable') })
  app.remember(o.author)
  const box = el('div', { className: 'origin', dataset: { origin: keyOf(o) } }, authorLine(o, true), el('div', { className: 'text' }, richText(o.text ?? '', app.mentionId)), pictures(authorId(o), o.images))
  box.addEventListener('click', (e) => {
    if (e.target.closest('a, img, button')) return
    location.hash = `#/p/${encodeURIComponent(authorId(o))}/${encodeURIComponent(o.id)}`
  })
  return box
}

/**
 * What a repost shows under its own text: the comments of the reposts between it and the original,
 * Weibo's way (" //@B: nice //@C: look"), then the original post in a box.
 */
async function repostBody(p) {
  const chain = await app.wb.repostChain(p).catch(() => [])
  const root = chain[chain.length - 1]
  const between = chain.slice(0, -1).filter((r) => !r.deleted && r.text?.trim())
  const nodes = []
  if (between.length) nodes.push(el('div', { className: 'chain' }, between.flatMap((r) => [' //', el('a', { href: `#/u/${encodeURIComponent(authorId(r))}`, textContent: `@${nameOf(r.author)}` }), ': ', ...richText(r.text, app.mentionId)])))
  nodes.push(origin(root))
  return nodes
}

/** The repost dialog: an optional comment, then the repost goes to the user's own posts. */
export function repostDialog(p, onDone) {
  const form = composer({
    id: 'repost-form',
    images: false,
    rows: 2,
    allowEmpty: true,
    placeholder: t('repostSay'),
    label: t('repost'),
    submit: async (text) => {
      await app.wb.repost(authorId(p), p.id, app.resolveMentions(text))
      document.getElementById('dialog').close()
      toast(t('reposted'))
      onDone?.()
    },
  })
  showDialog(el('h2', { textContent: t('repost') }), origin(p), form)
  form.focusText()
}

/** A post card; `opts.open` shows the comments at once (the post's own page). */
export function postCard(p, opts = {}) {
  const key = keyOf(p)
  const li = el('li', { className: 'post', dataset: { post: key, author: authorId(p) ?? '', at: String(p.at ?? 0) } })
  if (p.deleted) {
    li.append(el('div', { className: 'muted', textContent: t('deleted') }))
    return li
  }
    const likeBtn = el('button', { className: `like${p.liked ? ' on' : ''}`, dataset: { count: String(p.likes ?? 0) } })
  const setLike = (on, n) => {
    likeBtn.classList.toggle('on', on)
    likeBtn.dataset.count = String(n)
    iconLabel(likeBtn, 'heart', n || t('like'))
  }
  setLike(!!p.liked, p.likes ?? 0)
  action(likeBtn, async () => {
    const on = !likeBtn.classList.contains('on')
    const n = Number(likeBtn.dataset.count) + (on ? 1 : -1)
    await app.wb.like(authorId(p), p.id, on)
    p.liked = on
    setLike(on, Math.max(0, n))
  })
  const commentBtn = iconLabel(el('button', { className: 'comment-btn', dataset: { count: String(p.comments ?? 0) } }), 'comment', p.comments || t('comment'))
  const repostBtn = iconLabel(el('button', { className: 'repost-btn', dataset: { count: String(p.reposts ?? 0) } }), 'repost', p.reposts || t('repost'))
  action(repostBtn, async () => repostDialog(p, () => opts.onChange?.()))
  const actions = el('div', { className: 'actions' }, repostBtn, commentBtn, likeBtn)
  if (p.mine || authorId(p) === app.wb.me) {
    const del = iconLabel(el('button', { className: 'delete', title: t('del') }), 'trash', t('del'))
    action(del, async () => {
      if (!confirm(t('confirmDelete'))) return
      await app.wb.deletePost(p.id)
      li.remove()
    })
    actions.append(del)
  }
  li.append(...[authorLine(p), el('div', { className: 'text' }, richText(p.text ?? '', app.mentionId)), pictures(authorId(p), p.images)].filter(Boolean))
  if (p.repost) {
    const slot = el('div', { className: 'repost-of' })
    li.append(slot)
    repostBody(p).then((nodes) => slot.replaceChildren(...nodes))
  }
  li.append(actions)
  let thread
  const toggle = async () => {
    if (thread) {
      thread.remove()
      thread = undefined
      return
    }
    thread = await openComments(p, (n) => {
      commentBtn.dataset.count = String(n)
      iconLabel(commentBtn, 'comment', n || t('comment'))
    })
    li.append(thread)
  }
  action(commentBtn, toggle)
  if (opts.open) toggle()
  return li
}
