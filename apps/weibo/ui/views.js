// The timeline screens: home (compose, paged, live), a user's page (profile, follow, her posts,
// followers and following), a post with its comments, a hashtag page and search.
import { t } from '../i18n.js'
import { MAX_POST } from '../store.js'
import { composer } from './compose.js'
import { action, avatar, el, nameOf, toast } from './dom.js'
import { feed } from './feed.js'
import { postCard } from './post.js'
import { app } from './state.js'

const PAGE = 20
const page = (r) => ({ posts: r.posts, next: r.cursor ?? undefined })

/** Home: the compose box and the home timeline; posts of followees arrive live. */
export function homeView(view, live) {
  const form = composer({
    id: 'compose',
    max: MAX_POST,
    submit: async (text, images) => {
      const id = await app.wb.post(app.resolveMentions(text), { images: images.map((i) => ({ data: i.full.bytes, thumb: i.thumb.bytes, type: i.full.type, w: i.full.w, h: i.full.h })) })
      toast(t('posted'))
      const p = await app.wb.getPost(app.wb.me, id)
      if (p) list.add(p)
    },
  })
  const list = feed((cursor) => app.wb.timeline({ cursor, limit: PAGE }).then(page), { id: 'home-feed', empty: t('emptyHome') })
  view.replaceChildren(el('section', { className: 'card' }, form), list)
  // A followee's new post (or mine from another tab) goes on top as soon as the store has it.
  live('post', async ({ author, id }) => {
    const p = await app.wb.getPost(author, id)
    if (p && !p.deleted) list.add(p)
  })
  live('change', async ({ author }) => {
    // A followee's area changed: her deleted posts leave, and posts not shown yet (a new followee's,
    // or ones synced late) take their place.
    for (const card of view.querySelectorAll(`#home-feed > li[data-author="${CSS.escape(author)}"]`)) {
      const id = card.dataset.post.slice(author.length + 1)
      app.wb.getPost(author, id).then((p) => (!p || p.deleted) && list.drop(card.dataset.post))
    }
    const { posts } = await app.wb.timeline({ limit: PAGE })
    for (const p of posts) if (!p.deleted) list.add(p)
  })
  return list.ready
}

function personRow(p, following) {
  app.remember(p)
  const li = el('li', { dataset: { user: p.id } }, el('a', { href: `#/u/${encodeURIComponent(p.id)}` }, avatar(p, 36)), el('div', { className: 'grow' }, el('a', { href: `#/u/${encodeURIComponent(p.id)}`, className: 'who', textContent: nameOf(p) }), el('div', { className: 'small muted', textContent: p.bio || '' }), el('div', { className: 'id', textContent: p.id })))
  if (p.id !== app.wb.me && following) li.append(followButton(p.id, following))
  return li
}

/** Follow / Unfollow for user `id`; `following` is the set of ids I follow (kept up to date). */
export function followButton(id, following) {
  const b = el('button', { className: 'follow-btn' })
  const draw = () => {
    const on = following.has(id)
    b.textContent = on ? t('unfollow') : t('follow')
    b.classList.toggle('plain', on)
    b.dataset.on = on ? '1' : '0'
  }
  draw()
  return action(b, async () => {
    if (following.has(id)) {
      await app.wb.unfollow(id)
      following.delete(id)
    } else {
      await app.wb.follow(id)
      following.add(id)
    }
    draw()
  })
}

export async function peopleList(ids) {
  const following = new Set(await app.wb.following())
  const profiles = await Promise.all(ids.map((id) => app.wb.profile(id)))
  if (!profiles.length) return el('p', { className: 'muted', textContent: t('noResults') })
  return el('ul', { className: 'people' }, profiles.map((p) => personRow(p, following)))
}

/** A user's page: avatar, name, bio, counts, Follow and Message; below, her posts or her lists. */
export async function userView(view, id, sub = 'posts') {
  const [p, followingIds, followerIds, mine] = await Promise.all([app.wb.profile(id), app.wb.following(id), app.wb.followers(id), app.wb.following()])
  app.remember(p)
  const me = id === app.wb.me
  const link = (s, n, label) => el('a', { href: `#/u/${encodeURIComponent(id)}${s === 'posts' ? '' : `/${s}`}`, className: s === sub ? 'on' : '', dataset: { sub: s } }, el('b', { textContent: n === undefined ? '' : String(n) }), label)
  const buttons = el('div', { className: 'row-end' })
  if (me) buttons.append(el('a', { href: '#/me', textContent: t('editProfile') }))
  else buttons.append(el('a', { href: `#/dm/${encodeURIComponent(id)}`, className: 'dm-link', textContent: t('message') }), followButton(id, new Set(mine)))
  const head = el(
    'section',
    { className: 'card', id: 'user-head', dataset: { user: id } },
    el('div', { className: 'profile-head' }, avatar(p, 64), el('div', { className: 'grow' }, el('div', { className: 'name', textContent: nameOf(p) }), el('div', { className: 'bio', textContent: p.bio || '' }), el('div', { className: 'id', textContent: id }))),
    el('div', { className: 'row' }, el('div', { className: 'subtabs' }, link('posts', undefined, t('posts')), link('following', followingIds.length, t('following')), link('followers', followerIds.length, t('followers'))), buttons),
  )
  if (!p.reachable) head.append(el('p', { className: 'small muted', textContent: t('unavailable') }))
  let body
  if (sub === 'following' || sub === 'followers') body = el('section', { className: 'card', id: `${sub}-list` }, await peopleList(sub === 'following' ? followingIds : followerIds))
  else body = feed((cursor) => app.wb.userTimeline(id, { cursor, limit: PAGE }).then(page), { id: 'user-feed' })
  view.replaceChildren(head, body)
  return body.ready
}

/** One post with its comments open. */
export async function postView(view, author, id) {
  const p = await app.wb.getPost(author, id)
  view.replaceChildren(p ? el('ol', { className: 'feed', id: 'post-page' }, postCard(p, { open: true })) : el('p', { className: 'note', textContent: t('unavailable') }))
}

/** The posts with #tag among everything synced on this node. */
export async function tagView(view, tag) {
  const list = feed(async (cursor) => (cursor ? { posts: [] } : { posts: await app.wb.hashtag(tag, { limit: 50 }) }), { id: 'tag-feed' })
  view.replaceChildren(el('h2', { className: 'tag-title' }, `${t('tag')}: `, el('span', { className: 'tag', textContent: `#${tag}` })), list)
  return list.ready
}

/** Search: a box, then the people and the posts that match. */
export async function searchView(view, q = '') {
  const input = el('input', { type: 'search', name: 'q', value: q, placeholder: t('searchPh'), autocomplete: 'off' })
  const form = el('form', { className: 'search card', id: 'search-form' }, input, el('button', { textContent: t('searchGo') }))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`
  })
  const results = el('div', { id: 'search-results' })
  view.replaceChildren(form, results)
  if (!q.trim()) {
    // Without a query: the people this node knows, to find someone to follow.
    const ids = (await app.wb.users()).filter((u) => u !== app.wb.me)
    results.append(el('section', { className: 'card', id: 'people' }, el('h2', { textContent: t('people') }), await peopleList(ids)))
    input.focus()
    return
  }
  const tag = /^[#＃]([^\s#＃]+)[#＃]?$/.exec(q.trim())
  const r = tag ? { posts: await app.wb.hashtag(tag[1], { limit: 50 }), users: [] } : await app.wb.search(q, { limit: 50 })
  if (r.users.length) results.append(el('section', { className: 'card', id: 'user-results' }, el('h2', { textContent: t('users') }), await peopleList(r.users.map((u) => u.id))))
  const posts = feed(async (cursor) => (cursor ? { posts: [] } : { posts: r.posts }), { id: 'post-results', empty: t('noResults') })
  results.append(posts)
  results.dataset.done = '1'
  await posts.ready
}
