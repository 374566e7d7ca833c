// Small DOM helpers of Weibo's page: elements from plain values (text always as textContent), the
// toast, times, avatars and post text with #hashtags and @mentions turned into links.
import { lang, t } from '../i18n.js'
import { parseText } from '../store.js'
import { app } from './state.js'

export const $ = (id) => document.getElementById(id)

/** An element with properties set and children appended (strings become text nodes, never HTML). */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'dataset') Object.assign(e.dataset, v)
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn)
    else if (k in e) e[k] = v
    else e.setAttribute(k, v)
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c)
  return e
}

export function toast(text) {
  const box = $('toast')
  box.textContent = text
  box.hidden = false
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => (box.hidden = true), 2500)
}

/** "3 min ago" for the last day, a date after that. */
export function when(at) {
  const s = Math.max(0, (Date.now() - at) / 1000)
  if (s < 60) return t('now')
  if (s < 3600) return t('minAgo', Math.floor(s / 60))
  if (s < 86400) return t('hourAgo', Math.floor(s / 3600))
  return new Date(at).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'medium', timeStyle: 'short' })
}

/** A round avatar: her initial on a colour from her id, replaced by her picture once it loads. */
export function avatar(profile, size = 40) {
  const box = el('span', { className: 'avatar', title: profile?.name || '' })
  box.style.width = box.style.height = `${size}px`
  const id = String(profile?.id ?? '?')
  let h = 0
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360
  box.style.background = `hsl(${h} 55% 55%)`
  box.style.fontSize = `${Math.round(size / 2.2)}px`
  box.textContent = [...(profile?.name || id).trim()][0]?.toUpperCase() ?? '?'
  if (profile?.avatar && profile.id && app.wb) {
    app.wb.imageUrl(profile.id, profile.avatar).then(
      (url) => box.replaceChildren(el('img', { src: url, alt: '', width: size, height: size })),
      () => {},
    )
  }
  return box
}

/** The name to show for a profile (its name, else a short id). */
export const nameOf = (p) => p?.name || (p?.id ? `${t('user')} ${String(p.id).slice(0, 6)}` : t('noname'))

/**
 * Post text as nodes from the store's parseText tokens: #tag links to the tag page, @name to the
 * user (an id, or a name the page has met; else a search for it), URLs to their address. Never HTML.
 */
export function richText(text, mention = () => undefined) {
  return parseText(String(text ?? '')).map(({ t: kind, v, id: known }) => {
    if (kind === 'tag') return el('a', { className: 'tag', href: `#/tag/${encodeURIComponent(v)}`, textContent: `#${v}`, dataset: { tag: v } })
    if (kind === 'mention') {
      const id = known ?? mention(v)
      const a = el('a', { className: 'mention', href: id ? `#/u/${encodeURIComponent(id)}` : `#/search?q=${encodeURIComponent(v)}`, textContent: `@${(known && (app.ids.get(known) ?? `${known.slice(0, 8)}…`)) || v}`, dataset: { mention: id ?? v } })
      // @<user id>: her name once her profile is known.
      if (known && !app.ids.has(known) && app.wb) app.wb.profile(known).then((p) => p?.name && (app.remember(p), (a.textContent = `@${p.name}`)), () => {})
      return a
    }
    if (kind === 'url' && /^https?:\/\//i.test(v)) return el('a', { href: v, textContent: v, target: '_blank', rel: 'noopener noreferrer' })
    return document.createTextNode(v)
  })
}

/** Runs `fn` on click with the button disabled meanwhile; a failure becomes a toast. */
export function action(button, fn) {
  button.addEventListener('click', async (e) => {
    e.preventDefault()
    e.stopPropagation()
    if (button.disabled) return
    button.disabled = true
    try {
      await fn(e)
    } catch (err) {
      toast(err?.message ?? String(err))
    } finally {
      button.disabled = false
    }
  })
  return button
}

const ICONS = {
  repost: 'M17 2l4 4-4 4M3 11V9a4 4 0 0 1 4-4h14M7 22l-4-4 4-4M21 13v2a4 4 0 0 1-4 4H3',
  comment: 'M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z',
  heart: 'M20.8 4.6a5.5 5.5 0 0 0-7.8 0L12 5.7l-1-1.1a5.5 5.5 0 0 0-7.8 7.8l1 1.1L12 21l7.8-7.5 1-1.1a5.5 5.5 0 0 0 0-7.8z',
  trash: 'M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6',
  image: 'M3 3h18v18H3zM8.5 10a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3zM21 15l-5-5L5 21',
  lock: 'M5 11h14v10H5zM8 11V7a4 4 0 0 1 8 0v4',
}

/** A line icon (SVG, drawn with the text colour). */
export function icon(name) {
  const NS = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(NS, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('class', `ic ${name}`)
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(NS, 'path')
  path.setAttribute('d', ICONS[name])
  svg.append(path)
  return svg
}

/** Sets a button to an icon and a label (the count when there is one). */
export function iconLabel(button, name, label) {
  button.replaceChildren(icon(name), el('span', { textContent: String(label) }))
  return button
}
