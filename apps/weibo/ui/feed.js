// A paged list of posts: the first page at once, the next ones on "Load more" or when the end of the
// list scrolls into view; posts that arrive live are put in their place without reloading the page.
import { t } from '../i18n.js'
import { el } from './dom.js'
import { keyOf, postCard } from './post.js'
import { app } from './state.js'

/**
 * `load(cursor)` resolves {posts, next} (next undefined at the end). Returns the list's element
 * with `add(post)` (a live post on top) and `ready` (the first page shown).
 */
export function feed(load, { empty = t('empty'), id } = {}) {
  const list = el('ol', { className: 'feed', id })
  const more = el('button', { className: 'plain more', type: 'button', textContent: t('more') })
  const status = el('p', { className: 'muted small center' })
  const box = el('div', { className: 'feed-box' }, list, status, more)
  const seen = new Set()
  let next
  let loading
  let done = false

  const append = (posts) => {
    for (const p of posts) {
      const k = keyOf(p)
      if (seen.has(k)) continue
      seen.add(k)
      app.remember(p.author)
      list.append(postCard(p))
    }
  }
  const page = () =>
    (loading ??= (async () => {
      more.disabled = true
      status.textContent = t('loading')
      try {
        const started = performance.now()
        const r = await load(next)
        append(r.posts ?? [])
        next = r.next
        done = next === undefined || next === null || !(r.posts ?? []).length
        box.dataset.pages = String(Number(box.dataset.pages ?? 0) + 1)
        const ms = performance.now() - started
        box.dataset.lastPageMs = String(Math.round(ms))
        // Every page's time (the store's call and the cards drawn), for the console and the benches.
        ;(app.pageTimes ??= []).push(ms)
      } finally {
        loading = undefined
        more.disabled = false
        more.hidden = done
        status.textContent = seen.size === 0 ? empty : done ? t('end') : ''
        box.dataset.count = String(seen.size)
        box.dataset.done = done ? '1' : '0'
      }
    })())
  more.addEventListener('click', page)
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !done && !loading && seen.size) page()
  })
  io.observe(more)

  /** Puts a post that arrived live in its place (newest first); one older than every card shown waits for its page. */
  box.add = (p) => {
    const k = keyOf(p)
    if (seen.has(k)) return false
    const after = [...list.children].find((c) => Number(c.dataset.at) < p.at)
    if (!after && !done) return false
    seen.add(k)
    app.remember(p.author)
    const card = postCard(p)
    card.classList.add('fresh')
    list.insertBefore(card, after ?? null)
    status.textContent = ''
    box.dataset.count = String(seen.size)
    return true
  }
  box.drop = (key) => {
    list.querySelector(`[data-post="${CSS.escape(key)}"]`)?.remove()
    seen.delete(key)
    box.dataset.count = String(seen.size)
  }
  box.loadMore = page
  box.stop = () => io.disconnect()
  box.ready = page()
  return box
}
